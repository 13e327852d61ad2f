/**
 * The completion scripts `svcreg completion <shell>` prints. Each is only glue: it
 * hands the words typed so far to `svcreg __complete -- <words...>` (stdin closed, so
 * nothing can prompt; stderr dropped) and offers the lines it prints, which are already
 * filtered and safe to insert. Nothing read back is evaluated by the shell.
 */

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/**
 * `svcreg __complete` exits with this, printing nothing, where the word is a file name or
 * a free-form value: the script then lets the shell complete file names, as it would
 * without svcreg's completion. An empty answer with exit 0 means: nothing to offer.
 */
export const SHELL_DEFAULT_STATUS = 10;

const BASH = `# svcreg completion for bash. Load it with: source <(svcreg completion bash)
# or keep it: svcreg completion bash > ~/.local/share/bash-completion/completions/svcreg
_svcreg_complete() {
  local IFS=$' \\t\\n' line=\${COMP_LINE:0:COMP_POINT} out status
  local -a words
  # Split at blanks only: COMP_WORDS is also split at = and :, which names may hold.
  read -r -d '' -a words <<< "$line"
  [[ $line == *[[:space:]] ]] && words+=('')
  out=$(svcreg __complete -- "\${words[@]:1}" 2>/dev/null </dev/null)
  status=$?
  COMPREPLY=()
  if (( status == ${SHELL_DEFAULT_STATUS} )); then
    compopt -o default
    return
  fi
  [[ -n $out ]] && mapfile -t COMPREPLY <<< "$out"
  # bash replaces only what follows the word's last = or : (when COMP_WORDBREAKS has them).
  local breaks=\${COMP_WORDBREAKS//[^=:]/} cur=\${words[\${#words[@]}-1]}
  if [[ -n $breaks && $cur == *[$breaks]* ]]; then
    local head=\${cur%"\${cur##*[$breaks]}"}
    COMPREPLY=("\${COMPREPLY[@]#"$head"}")
  fi
}
complete -F _svcreg_complete svcreg
`;

const ZSH = `#compdef svcreg
# svcreg completion for zsh. Load it with: source <(svcreg completion zsh) (after compinit)
# or keep it as _svcreg in a directory of $fpath.
_svcreg() {
  local out
  out=$(svcreg __complete -- "\${(@Q)words[2,CURRENT-1]}" "\${(Q)PREFIX}" 2>/dev/null </dev/null)
  if (( $? == ${SHELL_DEFAULT_STATUS} )); then
    _files
    return
  fi
  local -a candidates
  candidates=(\${(f)out})
  compadd -a candidates
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _svcreg "$@"
else
  compdef _svcreg svcreg
fi
`;

const FISH = `# svcreg completion for fish. Load it with: svcreg completion fish | source
# or keep it: svcreg completion fish > ~/.config/fish/completions/svcreg.fish
function __svcreg_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    set -l candidates (svcreg __complete -- $words[2..-1] "$current" 2>/dev/null </dev/null)
    if test $status -eq ${SHELL_DEFAULT_STATUS}
        __fish_complete_path "$current"
    else if set -q candidates[1]
        printf '%s\\n' $candidates
    end
end
complete -c svcreg -f -a '(__svcreg_complete)'
`;

export function completionScript(shell: Shell): string {
  return { bash: BASH, zsh: ZSH, fish: FISH }[shell];
}
