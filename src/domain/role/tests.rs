//! Composites, cycles, group inheritance and the default roles.

use super::*;

fn role(name: &str, composites: &[&str]) -> Role {
    Role::from_spec(&RoleSpec {
        name: name.split(':').next_back().unwrap_or(name).into(),
        client: name.split_once(':').map(|(c, _)| c.to_owned()),
        composites: composites.iter().map(|s| s.to_string()).collect(),
        ..RoleSpec::default()
    })
    .unwrap()
}

#[test]
fn notation_follows_keycloak_connect() {
    assert_eq!(RoleRef::parse("admin").unwrap(), RoleRef::realm("admin"));
    assert_eq!(
        RoleRef::parse("realm:admin").unwrap(),
        RoleRef::realm("admin")
    );
    let c = RoleRef::parse("app:reader").unwrap();
    assert_eq!(c.client.as_deref(), Some("app"));
    assert_eq!(c.to_string(), "app:reader");
    assert_eq!(RoleRef::realm("a:b").to_string(), "realm:a:b");
    assert!(RoleRef::parse("").is_err());
    assert!(RoleRef::parse("bad client:x").is_err());
    assert!(RoleRef::parse("app:").is_err());
}

#[test]
fn composites_expand_transitively_and_cycles_end() {
    let defined = vec![
        role("admin", &["editor", "app:manage"]),
        role("editor", &["viewer"]),
        role("viewer", &["admin"]), // a cycle back to the top
        role("app:manage", &["app:read"]),
        role("app:read", &[]),
        role("lonely", &[]),
    ];
    let got = expand(&defined, &[RoleRef::realm("admin")]);
    assert_eq!(
        got.realm.iter().map(String::as_str).collect::<Vec<_>>(),
        ["admin", "editor", "viewer"]
    );
    assert_eq!(
        got.clients["app"]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["manage", "read"]
    );
    // A grant of a role that no longer exists gives nothing.
    assert_eq!(
        expand(&defined, &[RoleRef::realm("gone")]),
        EffectiveRoles::default()
    );
}

#[test]
fn default_roles_are_built_in_and_replaceable() {
    let all = with_builtins("DominoRealm", vec![]);
    let got = expand(&all, &[RoleRef::realm("default-roles-dominorealm")]);
    assert_eq!(
        got.realm.iter().map(String::as_str).collect::<Vec<_>>(),
        [
            "default-roles-dominorealm",
            "offline_access",
            "uma_authorization"
        ]
    );
    let replaced = with_builtins(
        "DominoRealm",
        vec![
            role("default-roles-dominorealm", &["viewer"]),
            role("viewer", &[]),
        ],
    );
    let got = expand(&replaced, &[RoleRef::realm("default-roles-dominorealm")]);
    assert!(got.realm.contains("viewer") && !got.realm.contains("offline_access"));
}

#[test]
fn groups_are_paths_and_members_inherit_from_ancestors() {
    assert_eq!(parse_group_path("staff").unwrap(), "/staff");
    assert_eq!(parse_group_path("/a/b").unwrap(), "/a/b");
    assert!(parse_group_path("/a//b").is_err());
    assert!(parse_group_path("/").is_err());
    assert_eq!(with_ancestors("/a/b/c"), ["/a/b/c", "/a/b", "/a"]);
    let holders = holders_of_user("u1", &["/staff/admins".into(), "staff".into()]);
    assert_eq!(
        holders,
        [
            Holder::User("u1".into()),
            Holder::Group("/staff/admins".into()),
            Holder::Group("/staff".into()),
        ]
    );
}
