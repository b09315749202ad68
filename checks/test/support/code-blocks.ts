/** A fenced code block of a Markdown file. */
export interface CodeBlock {
  /** Markdown file it is in. */
  readonly file: string
  /** 1-based line of the block's first code line in that file. */
  readonly line: number
  /** First word of the fence's info string (`ts`, `sh`, …), or `''`. */
  readonly lang: string
  /** The code, with the fence's indentation removed. */
  readonly code: string
}

/** Every fenced (```) code block of `markdown`, in order. An unclosed fence runs to the end. */
export function codeBlocks(markdown: string, file: string): CodeBlock[] {
  const lines = markdown.split('\n')
  const blocks: CodeBlock[] = []
  let open: { indent: string; lang: string; start: number; body: string[] } | undefined
  lines.forEach((text, index) => {
    const fence = /^(\s*)```(.*)$/.exec(text)
    if (!open) {
      if (fence) open = { indent: fence[1] ?? '', lang: (fence[2] ?? '').trim().split(/\s+/)[0] ?? '', start: index + 2, body: [] }
      return
    }
    if (fence && (fence[2] ?? '').trim() === '') {
      blocks.push({ file, line: open.start, lang: open.lang, code: open.body.join('\n') })
      open = undefined
      return
    }
    // Blocks inside list items are indented; strip the fence's indentation from each line.
    open.body.push(text.startsWith(open.indent) ? text.slice(open.indent.length) : text)
  })
  if (open) blocks.push({ file, line: open.start, lang: open.lang, code: open.body.join('\n') })
  return blocks
}

/** Languages whose blocks are type-checked. */
export const TYPESCRIPT = new Set(['ts', 'typescript', 'mts'])
