import { Command, Help, Interfaces } from '@oclif/core';

/**
 * oclif's help, with descriptions reflowed to the terminal's width. Descriptions are written in
 * the source wrapped at ~100 columns; oclif wraps them again at the terminal width and keeps our
 * breaks, which gives a ragged right edge. Here each paragraph becomes one line before oclif
 * wraps it, so the source stays readable and the help stays even at any width.
 */
export default class ReflowingHelp extends Help {
  /** `nix-infra help <cmd>` (@oclif/plugin-help) passes no options; keep package.json's (flag order). */
  constructor(config: Interfaces.Config, options: Partial<Interfaces.HelpOptions> = {}) {
    super(config, { ...config.pjson.oclif.helpOptions, ...options });
  }

  protected override formatCommand(command: Command.Loadable): string {
    return super.formatCommand({ ...command, description: reflowParagraphs(command.description) });
  }
}

/**
 * Joins the lines of each paragraph into one. A blank line ends a paragraph; a line starting with
 * a list marker (`-`, `*`, `1.`) or indentation starts a new line, so lists and examples keep
 * their shape.
 */
export function reflowParagraphs(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  const out: string[] = [];
  for (const line of lines) {
    const previous = out.at(-1);
    const startsOwnLine = line.trim() === '' || /^(\s|[-*] |\d+\. )/.test(line);
    if (previous === undefined || previous.trim() === '' || startsOwnLine) out.push(line);
    else out[out.length - 1] = `${previous.trimEnd()} ${line.trimStart()}`;
  }
  return out.join('\n');
}
