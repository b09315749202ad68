/** Polls `condition` every 20 ms until it holds; answers when (epoch ms), or throws naming `what`. */
export async function until(condition: () => boolean | Promise<boolean>, limitMs: number, what: string): Promise<number> {
  const deadline = Date.now() + limitMs
  while (Date.now() < deadline) {
    if (await condition()) return Date.now()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`not within ${limitMs} ms: ${what}`)
}
