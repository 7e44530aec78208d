//! Custom sets: the first matching set decides; what a set covers.

use super::*;

#[test]
fn first_matching_custom_set_decides() {
    let cfg = Cfg::new().roles("bob=user").perms(
        "set Approved WorkItem status:approved\n\
             set Mine WorkItem author:$[user.id]\n\
             set Done WorkItem status:(approved OR done)\n\
             user +WorkItem.modify -@Approved.modify +@Mine.modify +@Done.modify",
    );
    check(
        &cfg,
        "bob WorkItem.modify => allow
         bob WorkItem.modify status=draft => allow
         bob WorkItem.modify status=approved => deny
         bob WorkItem.modify status=approved author=bob => deny
         bob WorkItem.modify status=draft author=bob => allow
         bob WorkItem.modify status=done => allow",
    );
}
#[test]
fn a_custom_set_applies_to_its_prototype_only() {
    let cfg = Cfg::new().roles("bob=user").perms(
        "set Frozen Module status:approved\n\
         user +WorkItem.modify +Module.modifyContent -@Frozen.modifyContent",
    );
    check(
        &cfg,
        "bob WorkItem.modify status=approved => allow
         bob Module.modifyContent status=approved => deny
         bob Module.modifyContent status=draft => allow",
    );
}
#[test]
fn an_unset_custom_set_permission_takes_the_base_permission() {
    let cfg = Cfg::new().roles("bob=user").perms(
        "set Frozen Module status:approved\n\
         user +Module.read -@Frozen.modifyContent",
    );
    check(&cfg, "bob Module.read status=approved => allow");
}
#[test]
fn a_custom_set_deny_beats_a_grant_of_the_base_permission_on_another_role() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("set Approved WorkItem status:approved\nuser -@Approved.modify")
        .project("A", None)
        .project_roles("A", "bob=project_user")
        .project_perms("A", "project_user +WorkItem.modify");
    // In A the project's file decides which sets apply: it has none.
    check(&cfg, "bob WorkItem.modify @A status=approved => allow");
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms(
            "set Approved WorkItem status:approved\n\
             user -@Approved.modify\n\
             project_user +WorkItem.modify",
        )
        .project("A", None)
        .project_roles("A", "bob=project_user");
    // The set's deny is explicit and the base grant reaches the set as
    // inherited; A has no settings of its own, so it answers as the
    // global context (003: global permissions "together with its Custom
    // Sets, are propagated to the Project level").
    check(
        &cfg,
        "bob WorkItem.modify status=approved => deny
         bob WorkItem.modify @A status=approved => deny
         bob WorkItem.modify @A status=draft => allow",
    );
}
/// 003, "Setting Permissions for Work Item Fields" and "Defining
/// Permissions for Artifact Sets"; 002, "Custom Set Permissions": inside
/// a matching set the set's READ and MODIFY govern the fields as the
/// general READ and MODIFY do outside sets.
#[test]
fn a_custom_set_covers_field_permissions() {
    let cfg = Cfg::new().roles("bob=user").perms(
        "set Secret WorkItem category:security\n\
         set Frozen WorkItem status:approved\n\
         user +WorkItem.read +WorkItem.modify -@Secret.read -@Secret.modify +@Frozen.read -@Frozen.modify",
    );
    check(
        &cfg,
        "bob WorkItem.field.title.read category=security => deny
         bob WorkItem.field.title.modify category=security => deny
         bob WorkItem.field.title.read category=other => allow
         bob WorkItem.field.title.modify category=other => allow
         bob WorkItem.field.status.read status=approved => allow
         bob WorkItem.field.status.modify status=approved => deny
         bob WorkItem.field.status.modify status=draft => allow",
    );
}
/// 003, "Setting Permissions for Work Item Fields": "denying permission
/// to READ also denies permission to MODIFY" — inside a set too.
#[test]
fn inside_a_set_field_read_denied_implies_field_modify_denied() {
    let cfg = Cfg::new().roles("bob=user").perms(
        "set S WorkItem status:a\n\
         set T WorkItem status:t\n\
         user +WorkItem.read +WorkItem.modify +@S.modify -@S.field.salary.read -@T.read +@T.field.x.modify",
    );
    check(
        &cfg,
        "bob WorkItem.field.salary.modify status=a => deny
         bob WorkItem.field.salary.read status=a => deny
         bob WorkItem.field.other.modify status=a => allow
         bob WorkItem.field.salary.modify status=b => allow
         bob WorkItem.field.x.modify status=t => deny
         bob WorkItem.field.x.read status=t => deny",
    );
}
/// 003, "Permissions for Test Runs": "The comment permission is a child of
/// Permission to MODIFY" — also inside a Test Run custom set.
#[test]
fn a_custom_set_covers_test_run_comment() {
    let cfg = Cfg::new().roles("bob=user").perms(
        "set Locked TestRun status:locked\n\
         set Open TestRun status:open\n\
         user +TestRun.modify -@Locked.modify -@Open.modify +@Open.comment",
    );
    check(
        &cfg,
        "bob TestRun.comment status=locked => deny
         bob TestRun.comment status=draft => allow
         bob TestRun.comment status=open => allow
         bob TestRun.modify status=open => deny",
    );
}
