/**
 * What one `npm run bench` run reports: sections of figures, the goals with their targets, and
 * the notes that explain them. Made by the run and handed to each section, which writes its own
 * figures here and returns the unit costs it measured; no section reads another's.
 */
export interface GoalLine {
  goal: string;
  target: string;
  measured: string;
  holds: boolean;
}

export class BenchReport {
  readonly sections: { title: string; rows: [string, string][] }[] = [];
  readonly notes: string[] = [];
  readonly goals: GoalLine[] = [];

  /** Starts a section: the rows after it belong to it. */
  section(title: string): void {
    console.log(`\n${title}`);
    this.sections.push({ title, rows: [] });
  }

  /** One figure of the current section, printed as it comes. */
  row(label: string, value: string): void {
    const current = this.sections[this.sections.length - 1];
    if (!current) throw new Error(`bench: "${label}" reported before any section`);
    current.rows.push([label, value]);
    console.log(`  ${label.padEnd(58)} ${value}`);
  }

  /** A line for "Reading the figures". */
  note(text: string): void {
    this.notes.push(text);
  }

  /** A goal, its target, this run's figure and whether it holds; listed together by goalsSection(). */
  goal(goal: string, target: string, measured: string, holds: boolean): void {
    this.goals.push({ goal, target, measured, holds });
  }

  /** The "Goals" section: every goal reported so far, by name. */
  goalsSection(): void {
    this.section("Goals");
    for (const g of [...this.goals].sort((a, b) => a.goal.localeCompare(b.goal)))
      this.row(`${g.goal} (target: ${g.target})`, `${g.measured}: ${g.holds ? "holds" : "MISSED"}`);
  }

  /** What a later suite of the same run needs to go on with this report (see fromJSON). */
  toJSON(): { sections: BenchReport["sections"]; notes: string[]; goals: GoalLine[] } {
    return { sections: this.sections, notes: this.notes, goals: this.goals };
  }

  /** A report handed over by an earlier suite of the same run, to be continued. */
  static fromJSON(data: unknown): BenchReport {
    const d = data as ReturnType<BenchReport["toJSON"]>;
    const report = new BenchReport();
    report.sections.push(...d.sections);
    report.notes.push(...d.notes);
    report.goals.push(...d.goals);
    return report;
  }

  /** The sections as markdown tables (a section's number dropped from its heading). */
  markdownTables(): string[] {
    return this.sections.flatMap((sec) => [
      `## ${sec.title.replace(/^\d+[a-z]?\. /, "")}`,
      "",
      "| measure | result |",
      "|---|---|",
      ...sec.rows.map(([k, v]) => `| ${k.trim()} | ${v} |`),
      "",
    ]);
  }
}
