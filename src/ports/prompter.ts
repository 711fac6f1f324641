/**
 * Asks the operator for input. The CLI's implementation reads the TTY; in --batch mode every
 * method throws a UserError naming the missing value, so nothing ever blocks a CI job.
 */
export interface Prompter {
  /** True when questions can be asked (interactive terminal and not --batch). */
  readonly interactive: boolean;
  confirm(question: string): Promise<boolean>;
  text(label: string): Promise<string>;
  /** Hidden input. With `confirm`, asks twice and insists both answers match. */
  secret(label: string, options?: { confirm?: boolean }): Promise<string>;
}
