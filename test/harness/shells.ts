/**
 * Real shells asking svcreg's completion scripts for candidates, as a TAB press does:
 * bash calls the function the script registered for `svcreg` with COMP_LINE and COMP_POINT
 * set as readline sets them; zsh types TAB in an interactive zsh on a pseudo-terminal
 * (zsh-complete.zsh); fish runs `complete -C`. The built CLI is on their PATH as `svcreg`,
 * as an installed one would be. Each shell is stopped by its PID (its process group) if it
 * outlives the timeout.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, cliEnv, runCli } from './cli.js';

export type ShellName = 'bash' | 'zsh' | 'fish';

export interface Completions {
  candidates: string[];
  /** bash only: the script asked readline for its own (file name) completion. */
  shellDefault: boolean;
  stderr: string;
  ms: number;
}

const ZSH_DRIVER = fileURLToPath(new URL('./zsh-complete.zsh', import.meta.url));

const BASH_DRIVER = `source "$1" || exit 3
# compopt changes the completion readline has in progress: outside a TAB press, record what is asked.
compopt() { printf 'compopt %s\\n' "$*"; }
spec=$(complete -p svcreg) || exit 3
fn=\${spec#*-F }; fn=\${fn%% *}
COMP_LINE=$2 COMP_POINT=\${#2} COMP_TYPE=9 COMP_KEY=9
read -ra COMP_WORDS <<< "$2"
[[ $2 == *[[:space:]] ]] && COMP_WORDS+=('')
COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
"$fn" svcreg "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"`;

/** A home for the shells (fish keeps state there) and a bin directory holding `svcreg`. */
export class ShellSandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'svcreg-completion-'));
  private readonly scripts = new Map<ShellName, string>();

  constructor() {
    mkdirSync(join(this.dir, 'bin'));
    mkdirSync(join(this.dir, 'home'));
    const svcreg = join(this.dir, 'bin', 'svcreg');
    writeFileSync(svcreg, `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
    chmodSync(svcreg, 0o755);
  }

  /** The script `svcreg completion <shell>` prints, saved to a file. */
  async script(shell: ShellName): Promise<string> {
    let path = this.scripts.get(shell);
    if (!path) {
      const r = await runCli(['completion', shell]);
      if (r.code !== 0) throw new Error(`svcreg completion ${shell} exited ${r.code}: ${r.stderr}`);
      path = join(this.dir, `svcreg.${shell}`);
      writeFileSync(path, r.stdout);
      this.scripts.set(shell, path);
    }
    return path;
  }

  /**
   * What `shell` offers for a TAB at the end of `line`; `env` is added to the shell's
   * environment. The script is sourced, or with `installed`, put where the shell finds it
   * by itself (zsh: `_svcreg` in $fpath; fish: ~/.config/fish/completions/svcreg.fish).
   */
  async complete(shell: ShellName, line: string, options: { env?: Record<string, string>; installed?: boolean } = {}): Promise<Completions> {
    const script = await this.script(shell);
    const home = join(this.dir, 'home');
    if (options.installed) {
      const dir = join(home, shell === 'zsh' ? 'zsh' : 'fish/completions');
      mkdirSync(dir, { recursive: true });
      copyFileSync(script, join(dir, shell === 'zsh' ? '_svcreg' : 'svcreg.fish'));
    }
    const argv: Record<ShellName, string[]> = {
      bash: ['bash', '--norc', '--noprofile', '-c', BASH_DRIVER, 'bash', script, line],
      zsh: ['zsh', '-f', ZSH_DRIVER, ...(options.installed ? ['fpath', join(home, 'zsh')] : ['source', script]), line],
      fish: options.installed ? ['fish', '-c', 'complete -C $argv[1]', line] : ['fish', '--no-config', '-c', 'source $argv[1]; and complete -C $argv[2]', script, line],
    };
    const [cmd, ...args] = argv[shell];
    const child = spawn(cmd, args, {
      env: cliEnv(this.env(options.env)),
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const started = Date.now();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    }).finally(() => clearTimeout(timer));
    if (code !== 0) throw new Error(`${shell} exited ${code}\nstdout: ${stdout}\nstderr: ${stderr}`);
    const lines = stdout.split('\n').filter((l) => l !== '');
    return {
      // fish prints "candidate<TAB>description".
      candidates: lines.filter((l) => !l.startsWith('compopt ')).map((l) => l.split('\t')[0]),
      shellDefault: lines.includes('compopt -o default'),
      stderr,
      ms: Date.now() - started,
    };
  }

  /** A shell's environment here: `svcreg` first on PATH, HOME (and XDG's directories) in the sandbox, plus `extra`. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    const home = join(this.dir, 'home');
    return { ...extra, PATH: `${join(this.dir, 'bin')}:${process.env.PATH}`, HOME: home, XDG_CONFIG_HOME: home, XDG_DATA_HOME: home, XDG_CACHE_HOME: home };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
