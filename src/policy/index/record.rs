//! What a decision reports as it goes ([`Trace`]): nothing ([`NoTrace`],
//! for `check`), or every step ([`Recorder`], which turns the decision
//! into an [`Explanation`]).

use super::super::explain::{
    AccountStatus, Explanation, Purpose, Reason, RoleLine, SetLine, Setting, Step, Verdict,
};
use super::super::query::{self};
use super::super::state::State;
use super::types::*;

/// Builds the [`Explanation`] of a decision.
pub(super) struct Recorder<'i> {
    pub(super) ix: &'i Index,
    pub(super) out: Explanation,
}

impl Trace for Recorder<'_> {
    fn account(&mut self, status: AccountStatus) {
        self.out.account = status;
    }

    fn admin(&mut self, held: Assigned) {
        self.out.admin = Some(RoleLine {
            role: self.ix.roles.names[held.role as usize].clone(),
            via: self.ix.via(Origin::Assignment {
                part: None,
                idx: held.assignment,
            }),
            state: State::ExplicitGrant,
            setting: None,
        });
    }

    fn begin(&mut self, purpose: Purpose, permission: &str, ctx: Ctx, hit: Option<SetHit>) {
        let customset = hit.map(|h| {
            let set = &self.ix.rules.files[h.file as usize].sets[h.set as usize];
            let action = permission
                .strip_prefix(set.prototype.as_str())
                .and_then(|r| r.strip_prefix('.'))
                .unwrap_or(permission);
            SetLine {
                id: set.id.clone(),
                at: set.at.clone(),
                key: format!("@{}.{action}", set.id),
                expanded: set
                    .query
                    .as_ref()
                    .map(|q| {
                        let obj = match purpose {
                            Purpose::DocumentContent => document_object(&self.out.object),
                            _ => self.out.object.clone(),
                        };
                        query::expansions(q, &obj, set.id.as_str())
                    })
                    .unwrap_or_default(),
            }
        });
        self.out.steps.push(Step {
            purpose,
            permission: permission.to_owned(),
            context: self.ix.context(ctx),
            customset,
            roles: Vec::new(),
            strongest: State::NotSet,
        });
    }

    fn role(&mut self, held: ActingRole, state: State, source: Source) {
        let setting = match source {
            Source::NotSet => None,
            Source::Rule(r) => {
                let info = &self.ix.rules.rule_info[r as usize];
                Some(Setting::Rule {
                    permission: info.permission.clone(),
                    effect: info.effect,
                    at: info.at.clone(),
                })
            }
            Source::Default(p) => Some(Setting::Default {
                permission: self.ix.rules.perm_names[p as usize].to_string(),
            }),
        };
        let line = RoleLine {
            role: self.ix.roles.names[held.role as usize].clone(),
            via: self.ix.via(held.origin),
            state,
            setting,
        };
        if let Some(step) = self.out.steps.last_mut() {
            step.roles.push(line);
        }
    }

    fn end(&mut self, strongest: State) {
        if let Some(step) = self.out.steps.last_mut() {
            step.strongest = strongest;
        }
    }

    fn done(&mut self, verdict: Verdict, reason: Reason) -> Verdict {
        self.out.verdict = verdict;
        self.out.reason = reason;
        verdict
    }
}

/// What a decision reports as it goes; `check` ignores it all.
pub(super) trait Trace {
    fn account(&mut self, _status: AccountStatus) {}
    fn admin(&mut self, _held: Assigned) {}
    fn begin(&mut self, _purpose: Purpose, _permission: &str, _ctx: Ctx, _hit: Option<SetHit>) {}
    fn role(&mut self, _held: ActingRole, _state: State, _source: Source) {}
    fn end(&mut self, _strongest: State) {}
    fn done(&mut self, verdict: Verdict, _reason: Reason) -> Verdict {
        verdict
    }
}

pub(super) struct NoTrace;

impl Trace for NoTrace {}
