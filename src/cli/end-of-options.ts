/** Where commander ends the options: at the first `--` that is not the value of an option. */
import type { Option } from 'commander';

/**
 * The arguments after the `--` that ends the options, or undefined without one.
 * commander gives them to a command mixed with the operands before `--`; a `--`
 * given as an option's value (`--tag --`) ends nothing.
 */
export function afterEndOfOptions(argv: readonly string[], options: readonly Option[]): string[] | undefined {
  const takesValue = (arg: string) => options.some((o) => o.required && (o.long === arg || o.short === arg));
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') return argv.slice(i + 1);
    if (takesValue(argv[i])) i++;
  }
  return undefined;
}
