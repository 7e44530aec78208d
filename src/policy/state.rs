//! The state of one permission for one role, and the one function that
//! combines states over every role a user holds (DESIGN §4):
//! `explicit grant > explicit deny > inherited grant > inherited deny >
//! not set`; not set means deny.

use std::fmt;

use crate::xml::Effect;

/// Where a setting was found, relative to the context asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Set on the permission itself: in the project's file, the global
    /// file (which a project inherits as it is, 003) or a built-in default.
    Explicit,
    /// Reached through a parent permission (or, inside a custom set, from
    /// the set's parent key or the general permission).
    Inherited,
}

/// The state of a permission for one role (or, combined, for a user).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    NotSet,
    InheritedDeny,
    InheritedGrant,
    ExplicitDeny,
    ExplicitGrant,
}

/// Strongest first: the order of DESIGN §4, kept in this one table.
pub const PRECEDENCE: [State; 5] = [
    State::ExplicitGrant,
    State::ExplicitDeny,
    State::InheritedGrant,
    State::InheritedDeny,
    State::NotSet,
];

fn rank(s: State) -> usize {
    PRECEDENCE
        .iter()
        .position(|p| *p == s)
        .unwrap_or(PRECEDENCE.len())
}

/// The stronger of two states.
pub fn combine(a: State, b: State) -> State {
    if rank(a) <= rank(b) { a } else { b }
}

/// The strongest of many states (`NotSet` for none).
pub fn strongest(states: impl IntoIterator<Item = State>) -> State {
    states.into_iter().fold(State::NotSet, combine)
}

impl State {
    pub fn of(level: Level, effect: Effect) -> State {
        match (level, effect) {
            (Level::Explicit, Effect::Grant) => State::ExplicitGrant,
            (Level::Explicit, Effect::Deny) => State::ExplicitDeny,
            (Level::Inherited, Effect::Grant) => State::InheritedGrant,
            (Level::Inherited, Effect::Deny) => State::InheritedDeny,
        }
    }

    /// Whether a user whose strongest state this is may act.
    pub fn allows(self) -> bool {
        matches!(self, State::ExplicitGrant | State::InheritedGrant)
    }

    /// The same effect, as inherited (what a parent passes to its child).
    pub fn inherited(self) -> State {
        match self {
            State::ExplicitGrant => State::InheritedGrant,
            State::ExplicitDeny => State::InheritedDeny,
            s => s,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::NotSet => "not set",
            State::InheritedDeny => "inherited deny",
            State::InheritedGrant => "inherited grant",
            State::ExplicitDeny => "explicit deny",
            State::ExplicitGrant => "explicit grant",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;

    /// `states` combined give `expect`, in every order.
    fn check(states: &[State], expect: State) {
        assert_eq!(strongest(states.iter().copied()), expect, "{states:?}");
        assert_eq!(
            strongest(states.iter().rev().copied()),
            expect,
            "{states:?} reversed"
        );
    }

    #[test]
    fn explicit_grant_beats_explicit_deny() {
        check(&[ExplicitDeny, ExplicitGrant], ExplicitGrant);
    }

    #[test]
    fn explicit_deny_beats_inherited_grant() {
        check(&[InheritedGrant, ExplicitDeny], ExplicitDeny);
    }

    #[test]
    fn inherited_grant_beats_inherited_deny() {
        check(&[InheritedDeny, InheritedGrant], InheritedGrant);
    }

    #[test]
    fn anything_beats_not_set() {
        check(&[NotSet, InheritedDeny], InheritedDeny);
        check(&[], NotSet);
    }

    #[test]
    fn only_grants_allow() {
        let allowing: Vec<State> = PRECEDENCE.into_iter().filter(|s| s.allows()).collect();
        assert_eq!(allowing, [ExplicitGrant, InheritedGrant]);
    }

    #[test]
    fn combine_is_the_precedence_table() {
        for (i, a) in PRECEDENCE.iter().enumerate() {
            for (j, b) in PRECEDENCE.iter().enumerate() {
                let expect = PRECEDENCE[i.min(j)];
                assert_eq!(combine(*a, *b), expect, "{a} with {b}");
            }
        }
    }

    #[test]
    fn parents_pass_their_state_on_as_inherited() {
        assert_eq!(ExplicitGrant.inherited(), InheritedGrant);
        assert_eq!(ExplicitDeny.inherited(), InheritedDeny);
        assert_eq!(NotSet.inherited(), NotSet);
    }
}
