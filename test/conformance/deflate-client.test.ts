/**
 * permessage-deflate conformance (RFC 7692) with wsflow as the client: sections 12 and 13 of the
 * Autobahn TestSuite, compression errors (14, not in Autobahn), and sections 1-11 again with the
 * extension negotiated. `connect(url, { perMessageDeflate })` echoing what it receives,
 * fuzzed by the raw server of peer.ts with its own deflate (pmce.ts). One test per case; OK and
 * NON-STRICT pass, FAILED fails. A summary per section ends the run.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deflateCases, withCompression } from './cases-deflate.ts'
import { formatRow, startClientRole, summarize, type CaseResult, type RoleRunner } from './harness.ts'

let runner: RoleRunner | undefined
const results: CaseResult[] = []

test.before(async () => {
  runner = await startClientRole()
})

test.after(async () => {
  await runner?.close()
  // Not OK, or with measurements to report (zip bombs).
  const notable = results.filter((r) => r.verdict !== 'OK' || r.notes.length > 0).map(formatRow)
  console.log(`\n${notable.length > 0 ? `${notable.join('\n')}\n\n` : ''}${summarize(results)}`)
})

for (const c of [...deflateCases, ...withCompression()]) {
  if (c.only === 'server') continue
  test(`client ${c.id} ${c.section.endsWith('+deflate') ? '+deflate' : ''}: ${c.description}`, async () => {
    const result = await runner!.run(c)
    results.push(result)
    assert.ok(result.verdict !== 'FAILED', `${c.id} FAILED: ${result.notes.join('; ')}\n${result.log.join('\n')}`)
  })
}

test.run()
