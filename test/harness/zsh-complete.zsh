# zsh -f zsh-complete.zsh source SCRIPT LINE | fpath DIR LINE: what zsh's completion system
# finds when TAB is pressed at the end of LINE, with SCRIPT sourced after compinit or with
# DIR (holding _svcreg) in $fpath before it, one match per line. An interactive zsh runs on a
# pseudo-terminal (zsh/zpty); compadd is wrapped to record the words it is given that match
# what was typed (compadd -O), and comppostfuncs marks the end.
zmodload zsh/zpty
local how=$1 script=$2 line=$3 out=$(mktemp)
zpty completing zsh -f -i
case $how in
  source) zpty -w completing "PS1=''; autoload -Uz compinit; compinit -u -D; source ${(q)script}" ;;
  fpath) zpty -w completing "PS1=''; fpath=(${(q)script} \$fpath); autoload -Uz compinit; compinit -u -D" ;;
  *) print -u2 "zsh-complete: source or fpath, not $how"; exit 2 ;;
esac
zpty -w completing "compadd() { local -a hits; builtin compadd -O hits \"\$@\"; print -rl -- \$hits >> ${(q)out} }"
zpty -w completing "_record_end() { print -r -- '<end>' >> ${(q)out} }; comppostfuncs=(_record_end); bindkey '^I' complete-word"
zpty -n -w completing "$line"$'\t'
local screen
repeat 400; do
  [[ $(<$out) == *'<end>'* ]] && break
  zpty -rt completing screen 2>/dev/null   # keep the terminal drained
  sleep 0.05
done
zpty -d completing
local -a lines=("${(@f)$(<$out)}")
rm -f $out
if [[ $lines[-1] != '<end>' ]]; then
  print -u2 'zsh-complete: the completion did not finish'
  exit 2
fi
print -rl -- ${lines[1,-2]}
