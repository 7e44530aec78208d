//! Field, Document, Heading and parent-permission rules.

use super::*;

/// `headingsObeyDeletePermission` is `true` or `false`; anything else is
/// `xml-invalid-value` (docs/permissions.md, "Headings").
#[test]
fn headings_obey_delete_permission_takes_true_or_false() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("attr headingsObeyDeletePermission=yes\nuser +WorkItem.read");
    let input = Input {
        files: cfg
            .files
            .iter()
            .map(|(p, t)| (p.clone(), t.as_str().into()))
            .collect(),
        ..Input::default()
    };
    let diags = snapshot::build(&input).diagnostics;
    assert!(
        diags
            .iter()
            .any(|d| d.code == crate::diag::Code::XmlInvalidValue
                && d.message.contains("headingsObeyDeletePermission")),
        "{diags:#?}"
    );
}
/// 003, "Important Permission Ramifications": "By default, users can
/// delete Heading type Work Items without having the permission to DELETE
/// Work Items. To require that permission for deleting Headings, set the
/// system property headingsObeyDeletePermission=true". rolesync reads it
/// from the root of the global permissions.xml (docs/permissions.md).
#[test]
fn headings_can_be_deleted_without_the_delete_permission() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("user +WorkItem.read -WorkItem.delete");
    check(
        &cfg,
        "bob WorkItem.delete type=heading => allow
         bob WorkItem.delete type=task => deny
         bob WorkItem.delete => deny
         ghost WorkItem.delete type=heading => deny",
    );
    let cfg = Cfg::new().roles("bob=user").perms(
        "attr headingsObeyDeletePermission=true\n\
         user +WorkItem.read -WorkItem.delete",
    );
    check(
        &cfg,
        "bob WorkItem.delete type=heading => deny
         bob WorkItem.delete type=task => deny",
    );
    let cfg = Cfg::new().roles("bob=user").perms(
        "attr headingsObeyDeletePermission=true\n\
         user +WorkItem.delete",
    );
    check(&cfg, "bob WorkItem.delete type=heading => allow");
}
#[test]
fn field_read_denied_implies_field_modify_denied() {
    let cfg = Cfg::new()
        .defs("auditor=global")
        .roles("bob=user,auditor")
        .perms(
            "user +WorkItem.read +WorkItem.modify +WorkItem.field.salary.modify\n\
             auditor -WorkItem.field.salary.read",
        );
    check(
        &cfg,
        "bob WorkItem.field.salary.read => deny
         bob WorkItem.field.salary.modify => deny
         bob WorkItem.field.title.modify => allow
         bob WorkItem.field.title.read => allow",
    );
}
#[test]
fn fields_take_the_object_permission_when_unset() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("user +WorkItem.read -WorkItem.modify +WorkItem.field.status.modify");
    check(
        &cfg,
        "bob WorkItem.field.severity.read => allow
         bob WorkItem.field.severity.modify => deny
         bob WorkItem.field.status.modify => allow",
    );
}
#[test]
fn document_content_rule_for_title_description_and_attachments() {
    let cfg = Cfg::new().roles("bob=user").perms(
        "set Frozen Module status:approved\n\
         user +WorkItem.read +WorkItem.modify +Module.modifyContent -@Frozen.modifyContent",
    );
    check(
        &cfg,
        "bob WorkItem.field.title.modify => allow
         bob WorkItem.field.title.modify document=Spec document.status=draft => allow
         bob WorkItem.field.title.modify document=Spec document.status=approved => deny
         bob WorkItem.field.description.modify document=Spec document.status=approved => deny
         bob WorkItem.field.attachments.modify document=Spec document.status=approved => deny
         bob WorkItem.field.status.modify document=Spec document.status=approved => allow",
    );
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("user +WorkItem.read +WorkItem.modify");
    check(
        &cfg,
        "bob WorkItem.field.title.modify document=Spec => deny
         bob WorkItem.field.title.modify => allow",
    );
}
#[test]
fn test_run_comment_falls_back_to_test_run_modify() {
    let cfg = Cfg::new()
        .defs("tester=global viewer=global")
        .roles("t=user,tester v=user,viewer")
        .perms("tester +TestRun.modify\nviewer -TestRun.modify +TestRun.comment");
    check(
        &cfg,
        "t TestRun.comment => allow
         v TestRun.comment => allow
         v TestRun.modify => deny",
    );
}
#[test]
fn administration_modify_is_the_parent_of_user_and_role_management() {
    let cfg = Cfg::new()
        .defs("helpdesk=global")
        .roles("h=user,helpdesk")
        .perms("helpdesk +administration.modify -security.role.manage");
    check(
        &cfg,
        "h security.user.manage => allow
         h security.role.manage => deny
         h administration.modify => allow",
    );
}
#[test]
fn a_parent_grant_is_inherited_and_loses_to_an_explicit_deny() {
    let cfg = Cfg::new()
        .defs("a=global b=global")
        .roles("u=user,a,b")
        .perms("a +TestRun.modify\nb -TestRun.comment");
    check(&cfg, "u TestRun.comment => deny");
}
#[test]
fn legacy_document_modify_stands_for_manage_fields_and_content() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("user +Module.modify -Module.manage");
    check(
        &cfg,
        "bob Module.modifyFields => allow
         bob Module.modifyContent => allow
         bob Module.manage => deny
         bob Module.resolveComment => deny",
    );
}
