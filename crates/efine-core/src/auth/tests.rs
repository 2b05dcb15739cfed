//! Every role against every action, with and without a record's scope.

use super::*;

fn p(role: Role, dep: Option<&str>, dis: Option<&str>) -> Principal {
    Principal {
        user_id: 1,
        username: "u".into(),
        role,
        department: dep.map(|d| DepartmentCode::parse(d).unwrap()),
        district: dis.map(|d| DistrictCode::parse(d).unwrap()),
    }
}

/// A principal of each role as accounts are made: officers with a department and district,
/// supervisors and department admins with a department, the rest province-wide.
fn typical(role: Role) -> Principal {
    match role {
        Role::Officer => p(role, Some("traffic-police"), Some("peshawar")),
        Role::Supervisor | Role::DepartmentAdmin => p(role, Some("traffic-police"), None),
        _ => p(role, None, None),
    }
}

use Action as A;

/// Which roles do what at all (`Scope::ANY`), in the order of `Role::ALL`:
/// officer, supervisor, department admin, finance, auditor, admin.
const TABLE: &[(Action, [bool; 6])] = &[
    (A::IssueChallan, [true, false, false, false, false, false]),
    (A::ReadChallan, [true, true, true, true, true, true]),
    (
        A::RequestCancellation,
        [true, true, true, false, false, true],
    ),
    (
        A::DecideCancellation,
        [false, true, true, false, false, false],
    ),
    (A::DecideAppeal, [false, true, true, false, false, false]),
    (A::ReadQueues, [false, true, false, false, false, true]),
    (A::CheckVehicle, [true, true, true, false, true, true]),
    (
        A::RecordCounterCash,
        [false, false, false, true, false, false],
    ),
    (A::ReadCashUp, [false, false, false, true, true, true]),
    (A::HandleRefunds, [false, false, false, true, false, true]),
    (A::ReadRefunds, [false, false, false, true, true, true]),
    (A::Reconcile, [false, false, false, true, false, false]),
    (A::ReadStatistics, [true, true, true, true, true, true]),
    (A::ManageUsers, [false, false, false, false, false, true]),
    (A::ChangeSchedule, [false, false, true, false, false, true]),
    (A::PublishLogHead, [false, false, false, false, true, true]),
    (A::VerifyRecord, [false, false, false, false, true, true]),
    (A::ConsumeVoucher, [true, true, true, false, false, true]),
];

#[test]
fn every_role_and_action() {
    assert_eq!(TABLE.len(), Action::ALL.len());
    for action in Action::ALL {
        let (_, allowed) = TABLE.iter().find(|(a, _)| *a == action).unwrap();
        for (i, role) in Role::ALL.into_iter().enumerate() {
            let got = typical(role).may(action, &Scope::ANY);
            let want = if allowed[i] {
                Ok(())
            } else {
                Err(Denied::Role(action))
            };
            assert_eq!(got, want, "{role:?} {action:?}");
        }
    }
}

/// The same table on a record of the user's own department and district: nothing changes.
#[test]
fn own_records_are_like_any() {
    let trf = DepartmentCode::parse("traffic-police").unwrap();
    let psh = DistrictCode::parse("peshawar").unwrap();
    for (action, allowed) in TABLE {
        for (i, role) in Role::ALL.into_iter().enumerate() {
            let got = typical(role).may(*action, &Scope::of(&trf, &psh)).is_ok();
            assert_eq!(got, allowed[i], "{role:?} {action:?}");
        }
    }
}

/// A record of another department: province-wide roles still read it, nobody else does, and
/// only province-wide work is unaffected.
#[test]
fn other_departments() {
    let exc = DepartmentCode::parse("excise-taxation").unwrap();
    let psh = DistrictCode::parse("peshawar").unwrap();
    let other = Scope::of(&exc, &psh);
    for (action, allowed) in TABLE {
        for (i, role) in Role::ALL.into_iter().enumerate() {
            let got = typical(role).may(*action, &other);
            let province_wide = matches!(role, Role::Finance | Role::Auditor | Role::Admin);
            let scoped = match action {
                A::ReadChallan | A::ReadStatistics | A::RequestCancellation => !province_wide,
                A::IssueChallan | A::DecideCancellation | A::DecideAppeal => true,
                // Admins have no department: every department's schedule is theirs.
                A::ChangeSchedule => role != Role::Admin,
                // A voucher is used at its own department's counter; admins use any.
                A::ConsumeVoucher => role != Role::Admin,
                _ => false,
            };
            let want = match (allowed[i], scoped) {
                (false, _) => Err(Denied::Role(*action)),
                (true, true) => Err(Denied::Scope(*action)),
                (true, false) => Ok(()),
            };
            assert_eq!(got, want, "{role:?} {action:?}");
        }
    }
}

#[test]
fn districts() {
    let trf = DepartmentCode::parse("traffic-police").unwrap();
    let psh = DistrictCode::parse("peshawar").unwrap();
    let swt = DistrictCode::parse("swat").unwrap();
    let officer = typical(Role::Officer);
    assert_eq!(officer.may(A::IssueChallan, &Scope::of(&trf, &psh)), Ok(()));
    assert_eq!(
        officer.may(A::IssueChallan, &Scope::of(&trf, &swt)),
        Err(Denied::Scope(A::IssueChallan))
    );
    assert!(officer.may(A::ReadChallan, &Scope::of(&trf, &swt)).is_err());
    // A supervisor's account names no district: every district of the department.
    let sup = typical(Role::Supervisor);
    assert_eq!(sup.may(A::ReadChallan, &Scope::of(&trf, &swt)), Ok(()));
    assert_eq!(sup.may(A::DecideAppeal, &Scope::of(&trf, &swt)), Ok(()));
}

#[test]
fn reach() {
    let officer = typical(Role::Officer);
    assert_eq!(
        officer.reach().department.map(|d| d.as_str()),
        Some("traffic-police")
    );
    assert_eq!(
        officer.reach().district.map(|d| d.as_str()),
        Some("peshawar")
    );
    // Finance reads province-wide even if the account names a department.
    let fin = p(Role::Finance, Some("traffic-police"), None);
    assert_eq!(fin.reach(), Scope::ANY);
}

#[test]
fn four_eyes_rule() {
    let sup = typical(Role::Supervisor);
    assert_eq!(sup.may_decide(&[], "u"), Err(Denied::OwnRequest));
    assert_eq!(sup.may_decide(&[], "someone.else"), Ok(()));
    let d = |u: &'static str, s: &'static [String]| Decider {
        username: u,
        sponsors: s,
    };
    assert_eq!(four_eyes(&d("a", &[]), "a"), Err(Denied::OwnRequest));
    assert_eq!(four_eyes(&d("a", &[]), "b"), Ok(()));
}

/// The attack of the security review: an admin requests a cancellation, creates a supervisor
/// account and approves with it. The new account's sponsors name the admin, so it is refused,
/// whoever else took part (a second admin approving the grant does not clear it).
#[test]
fn an_account_made_by_the_requester_cannot_decide() {
    let sup = typical(Role::Supervisor);
    let sponsors = vec!["admin.a".to_string(), "admin.b".to_string()];
    assert_eq!(sup.may_decide(&sponsors, "admin.a"), Err(Denied::Sponsored));
    assert_eq!(sup.may_decide(&sponsors, "admin.b"), Err(Denied::Sponsored));
    assert_eq!(sup.may_decide(&sponsors, "officer.psh"), Ok(()));
    assert!(Denied::Sponsored.to_string().contains("created"));
}

#[test]
fn approving_roles_and_second_factor() {
    let approves: Vec<Role> = Role::ALL.into_iter().filter(|r| r.approves()).collect();
    assert_eq!(
        approves,
        [
            Role::Supervisor,
            Role::DepartmentAdmin,
            Role::Finance,
            Role::Admin
        ]
    );
    let mfa: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| r.needs_second_factor())
        .collect();
    assert_eq!(
        mfa,
        [
            Role::Supervisor,
            Role::DepartmentAdmin,
            Role::Finance,
            Role::Auditor,
            Role::Admin
        ]
    );
    assert!(!Role::Officer.needs_second_factor());
}

#[test]
fn refusals_are_said() {
    assert_eq!(
        Denied::Role(A::IssueChallan).to_string(),
        "only officers issue challans"
    );
    for a in Action::ALL {
        assert!(!a.refusal().is_empty());
    }
}
