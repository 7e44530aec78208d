//! The line-level shortcut of the emptied-group rail never hides a group
//! that the full computation finds emptied, over every line edit.

use super::*;

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

/// Every single-line edit of `lines`: the line at `at` replaced by one of
/// [`LINES`], one of them inserted there, or the line removed.
fn edited(lines: &[String], edit: usize) -> Vec<String> {
    let mut out = lines.to_vec();
    let (at, what) = (edit / (2 * LINES.len() + 1), edit % (2 * LINES.len() + 1));
    let at = at % out.len();
    match what {
        w if w < LINES.len() => out[at] = LINES[w].to_owned(),
        w if w < 2 * LINES.len() => out.insert(at, LINES[w - LINES.len()].to_owned()),
        _ => {
            out.remove(at);
        }
    }
    out
}

#[test]
fn the_line_shortcut_agrees_with_the_full_computation() {
    let lines: Vec<String> = TEXT.split_inclusive('\n').map(str::to_owned).collect();
    let singles = lines.len() * (2 * LINES.len() + 1);
    let mut shortcuts = 0;
    // Every single edit, and each followed by a second one.
    for first in 0..singles {
        let once = edited(&lines, first);
        for twice in [once.clone(), edited(&once, (first * 7 + 3) % singles)] {
            let new: String = twice.concat();
            for (old, new) in [(TEXT, new.as_str()), (new.as_str(), TEXT)] {
                if none_emptied_by_lines(old, new) {
                    shortcuts += 1;
                    assert!(
                        emptied(old, new).is_empty(),
                        "edit {first}:\n{old}\n---\n{new}"
                    );
                }
            }
        }
    }
    assert!(shortcuts > 100, "{shortcuts}");
}
