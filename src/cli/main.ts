/**
 * The `wsflow` executable: `wsflow connect | serve | bridge`, thin over the public API. Exit
 * status: 0 after a clean close (or a server stopped by a signal), 1 on a connection or protocol
 * failure, 2 on bad usage; every failure is one line on stderr.
 * @module
 */
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { ExitCode, UsageError } from './args.ts'
import { describeError, exitCodeOf, warn } from './report.ts'

/** The help of `wsflow` itself. */
export const MAIN_HELP = `Usage: wsflow COMMAND [options]

Commands:
  connect URL          a WebSocket client: interactive on a terminal, piping otherwise
  serve PORT           a WebSocket server: echo, --broadcast, --exec 'command', --static DIR
  bridge FROM TO       ws-listen:PORT tcp:HOST:PORT, or tcp-listen:PORT ws://URL

'wsflow COMMAND --help' tells more. Exit status: 0 clean close, 1 connection or protocol
failure, 2 usage.
`

type Command = (argv: readonly string[]) => Promise<number>

// Each command's module is loaded only when it runs (bench/cli-startup.ts: start-up to the first message).
const COMMANDS: Record<string, () => Promise<Command>> = {
  connect: async () => (await import('./connect.ts')).runConnect,
  serve: async () => (await import('./serve.ts')).runServe,
  bridge: async () => (await import('./bridge.ts')).runBridge,
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    return pkg.version
  } catch {
    return 'unknown'
  }
}

/** Runs the executable with `argv` (without node and the script) and resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    ;(command === undefined ? process.stderr : process.stdout).write(MAIN_HELP)
    return command === undefined ? ExitCode.USAGE : ExitCode.OK
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(`${version()}\n`)
    return ExitCode.OK
  }
  const load = COMMANDS[command]
  try {
    if (load === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)} (connect, serve or bridge)`)
    return await (await load())(rest)
  } catch (error) {
    const code = exitCodeOf(error)
    warn(`${describeError(error)}${code === ExitCode.USAGE ? ` (see wsflow ${load === undefined ? '' : `${command} `}--help)` : ''}`)
    return code
  }
}

/** Runs `main` on the process's arguments and exits with its code once stdout is flushed. */
export function run(): void {
  // A reader that went away (`wsflow connect … | head -1`) ends the program quietly, as for other tools.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.OK)
    warn(`stdout: ${describeError(error)}`)
    process.exit(ExitCode.FAILURE)
  })
  main(process.argv.slice(2)).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (error: unknown) => {
      warn(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
      process.exit(ExitCode.FAILURE)
    },
  )
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) run()
