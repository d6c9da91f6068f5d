// A tiny test reporter shared by the groups: counts results and prints failures in full.
'use strict';

class Report {
  constructor() {
    this.passed = 0;
    this.failed = 0;
  }

  /** Records one test; `problems` is a list of strings, empty when the test passed. */
  check(name, problems) {
    if (problems.length === 0) {
      this.passed += 1;
      console.log(`  ok      ${name}`);
    } else {
      this.failed += 1;
      console.log(`  FAILED  ${name}`);
      const shown = problems.slice(0, 40);
      for (const p of shown) console.log(`          ${p.replace(/\n/g, '\n          ')}`);
      if (problems.length > shown.length) console.log(`          ... and ${problems.length - shown.length} more`);
    }
  }
}

module.exports = { Report };
