//! REST endpoint permissions: the defaults and the documented recipes.

use super::*;

/// 000/001, "Example that illustrates REST API Endpoint permissions":
/// user_A is project_admin in project_A, project_user in project_B and
/// holds a custom global role with GET. Endpoint (3) has no verb in the
/// documents: PATCH, POST and DELETE are refused there (project_user has
/// no REST permission, project_admin is held in A only); GET is allowed,
/// because the custom role is a global role and its GET, a setting of the
/// global context, reaches every project (docs/permissions.md).
#[test]
fn rest_worked_example_of_the_documentation() {
    let cfg = Cfg::new()
        .defs("rest_reader=global")
        .roles("u=user,rest_reader")
        .perms("rest_reader +rest.get")
        .project("A", None)
        .project_roles("A", "u=project_admin")
        .project("B", None)
        .project_roles("B", "u=project_user");
    check(
        &cfg,
        "u rest.get => allow
         u rest.get @A => allow
         u rest.patch @A => allow
         u rest.post @A => allow
         u rest.delete @A => allow
         u rest.patch @B => deny
         u rest.post @B => deny
         u rest.delete @B => deny
         u rest.get @B => allow
         u rest.patch => deny",
    );
}
/// 000/001: "These permissions are set to true for the admin and
/// project_admin roles in the Global context. (And for all Projects by
/// default.) For all other roles, REST API Endpoint permissions are
/// denied by default."
#[test]
fn rest_defaults_grant_admins_and_leave_other_roles_unset() {
    let cfg = Cfg::new()
        .roles("root=admin,user v=user pa=user")
        .project("A", None)
        .project_roles("A", "pa=project_admin,project_user v=project_user")
        .project("B", None)
        .project_roles("B", "pa=project_user");
    check(
        &cfg,
        "root rest.delete => allow
         root rest.delete @A => allow
         pa rest.post @A => allow
         pa rest.get @B => deny
         pa rest.get => deny
         v rest.get @A => deny
         v rest.get => deny",
    );
}
/// 000/001, "To allow REST API access for all users for both the Global
/// and Project contexts": the four verbs for `everyone` in the Global
/// context open every endpoint to every user, whatever project roles
/// they hold.
#[test]
fn rest_everyone_recipe_opens_every_endpoint_to_every_user() {
    let cfg = Cfg::new()
        .roles("v=user w=user")
        .perms("everyone +rest.get +rest.patch +rest.post +rest.delete")
        .project("A", None)
        .project_roles("A", "v=project_user,project_assignable w=project_approver")
        .project("B", None)
        .project_roles("B", "v=project_admin")
        .project("C", None)
        .project_perms("C", "project_user +WorkItem.read");
    let mut cases = String::new();
    for u in ["v", "w"] {
        for verb in ["get", "patch", "post", "delete"] {
            for at in ["", "@A", "@B", "@C"] {
                cases.push_str(&format!("{u} rest.{verb} {at} => allow\n"));
            }
        }
    }
    check(&cfg, &cases);
}
/// 000/001, "Allow default REST API project-level access using project
/// roles": GET for project_user; GET, PATCH, POST, DELETE for
/// project_assignable and project_approver, set in the global context.
/// A user with several project roles gets the union.
#[test]
fn rest_project_roles_recipe_works_for_several_project_roles() {
    let cfg = Cfg::new()
        .roles("multi=user reader=user approver=user")
        .perms(
            "project_user +rest.get\n\
             project_assignable +rest.get +rest.patch +rest.post +rest.delete\n\
             project_approver +rest.get +rest.patch +rest.post +rest.delete",
        )
        .project("A", None)
        .project_roles(
            "A",
            "multi=project_user,project_assignable reader=project_user approver=project_user,project_approver",
        )
        .project("B", None)
        .project_roles("B", "multi=project_user");
    check(
        &cfg,
        "multi rest.get @A => allow
         multi rest.post @A => allow
         multi rest.delete @A => allow
         multi rest.post @B => deny
         multi rest.get @B => allow
         reader rest.get @A => allow
         reader rest.patch @A => deny
         approver rest.patch @A => allow
         multi rest.get => deny",
    );
}
/// 000/001: the defaults hold "for all Projects by default", i.e. unless
/// the project overrides them; 003, "Configuring User Permissions":
/// "changes to the project settings override the same settings in the
/// repository scope". A deny written in a project's file (or the global
/// file) replaces the default grant of that role.
#[test]
fn rest_a_deny_in_a_file_overrides_the_default_grant() {
    let cfg = Cfg::new()
        .roles("pa=user")
        .perms("project_admin -rest.post")
        .project("A", None)
        .project_roles("A", "pa=project_admin")
        .project_perms("A", "project_admin -rest.delete")
        .project("B", None)
        .project_roles("B", "pa=project_admin");
    check(
        &cfg,
        "pa rest.delete @A => deny
         pa rest.get @A => allow
         pa rest.post @A => deny
         pa rest.delete @B => allow
         pa rest.post @B => deny
         pa rest.patch @B => allow",
    );
}
#[test]
fn rest_grant_to_a_project_role_in_the_global_file_reaches_every_project() {
    let cfg = Cfg::new()
        .roles("v=user")
        .perms("project_user +rest.get")
        .project("A", None)
        .project_roles("A", "v=project_user");
    check(&cfg, "v rest.get @A => allow\n v rest.post @A => deny");
}
