//! The line-level shortcut of the emptied-group rail never hides a group
//! that the full computation finds emptied, over random line edits.

use super::*;
use crate::repo::test_util::Rng;

const TEXT: &str = "[aliases]\nboss = u1\n\n[groups]\n# rolesync: BEGIN generated groups\nadmin = u1, u2\np1-user = u3, @team\np2-user = @team\nteam = u4, u5\nnested = @p2-user\nvia = &boss\n# rolesync: END generated groups\nlocal = u6\n\n[/]\n@admin = rw\n~@nested = r\n@local = r\n";

/// Lines to put in, some of them no plain option.
const LINES: &[&str] = &[
    "p1-user = u3\n",
    "p1-user = @team\n",
    "team = u4\n",
    "team = \n",
    "team = @nested\n",
    "p2-user = u7, @team\n",
    "extra = u9\n",
    "  continued\n",
    "a:b = u1\n",
    "[/x]\n",
    "# a comment\n",
    "\n",
    "admin = u2\r\n",
];

fn emptied(old: &str, new: &str) -> Vec<String> {
    let after = nonempty_groups(new);
    nonempty_groups(old)
        .into_iter()
        .filter(|g| !after.contains(g))
        .collect()
}

#[test]
fn the_line_shortcut_agrees_with_the_full_computation() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut shortcuts = 0;
    for case in 0..3000 {
        let mut lines: Vec<String> = TEXT.split_inclusive('\n').map(str::to_owned).collect();
        for _ in 0..1 + rng.below(2) {
            let at = rng.below(lines.len());
            match rng.below(3) {
                0 => lines[at] = LINES[rng.below(LINES.len())].to_owned(),
                1 => lines.insert(at, LINES[rng.below(LINES.len())].to_owned()),
                _ => {
                    lines.remove(at);
                }
            }
        }
        let new: String = lines.concat();
        for (old, new) in [(TEXT, new.as_str()), (new.as_str(), TEXT)] {
            if none_emptied_by_lines(old, new) {
                shortcuts += 1;
                assert!(
                    emptied(old, new).is_empty(),
                    "case {case}:\n{old}\n---\n{new}"
                );
            }
        }
    }
    assert!(shortcuts > 500, "{shortcuts}");
}
