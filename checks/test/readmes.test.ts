import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, fromRoot, publicPackages, readmes } from './support/repo.js'

// What a reader of a README on npm or GitHub meets: links that lead somewhere, and words that do
// not assume they read our design notes.

/** Link targets of a Markdown text: `[text](target)` and `<a href="target">`, with line numbers. */
function links(markdown: string): Array<{ target: string; line: number }> {
  const found: Array<{ target: string; line: number }> = []
  markdown.split('\n').forEach((text, index) => {
    for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)|href="([^"]+)"/g)) {
      found.push({ target: (match[1] ?? match[2])!, line: index + 1 })
    }
  })
  return found
}

/** Code spans and blocks removed, so words quoted as code are not prose. */
function prose(markdown: string): string {
  return markdown.replace(/```[\s\S]*?```/g, (block) => block.replace(/[^\n]/g, ' ')).replace(/`[^`\n]*`/g, (span) => ' '.repeat(span.length))
}

const external = (target: string) => /^(https?:|mailto:|#)/.test(target)

describe('README links', () => {
  const shipped = publicPackages().map((p) => join(p.dir, 'README.md')).filter((f) => existsSync(f))

  it.each(shipped.map((file) => [fromRoot(file), file]))('%s (shipped on npm) has no relative link, which would break there', (_, file) => {
    const relative = links(readFileSync(file, 'utf8')).filter((l) => !external(l.target))
    expect(relative.map((l) => `${fromRoot(file)}:${l.line} ${l.target}`)).toEqual([])
  })

  it('the root README links only to files that exist', () => {
    const file = join(ROOT, 'README.md')
    const broken = links(readFileSync(file, 'utf8'))
      .filter((l) => !external(l.target))
      .filter((l) => !existsSync(resolve(dirname(file), l.target.split('#')[0]!)))
    expect(broken.map((l) => `README.md:${l.line} ${l.target}`)).toEqual([])
  })
})

describe('README wording', () => {
  const jargon: Array<[RegExp, string]> = [
    [/\bthe seed\b|\bseed's\b/i, 'say what it is (the Ruby gem BreakerMachines, its persistence guide)'],
    [/(?<!Ruby )\bthe gem\b|(?<!Ruby )\bthe gem's\b/i, 'say "the Ruby gem BreakerMachines" (readers never heard of "the gem")'],
    [/DESIGN\.md/, 'DESIGN.md is not published: say it here'],
  ]

  it.each(readmes().map((file) => [fromRoot(file), file]))('%s speaks to someone who never read our design notes', (_, file) => {
    const lines = prose(readFileSync(file, 'utf8')).split('\n')
    const found = lines.flatMap((text, index) =>
      jargon.filter(([pattern]) => pattern.test(text)).map(([, advice]) => `${fromRoot(file)}:${index + 1}: ${advice}: ${text.trim()}`),
    )
    expect(found).toEqual([])
  })
})
