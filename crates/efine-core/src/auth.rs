//! Staff roles and what each may see and do. Scope is by department and district: a record
//! outside a user's scope does not exist for them (404, not 403), so its number leaks nothing.

use crate::code::{DepartmentCode, DistrictCode};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Officer,
    Supervisor,
    DepartmentAdmin,
    Finance,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Officer,
        Role::Supervisor,
        Role::DepartmentAdmin,
        Role::Finance,
        Role::Auditor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
            Role::DepartmentAdmin => "department_admin",
            Role::Finance => "finance",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Roles that act for one department must name it.
    pub fn needs_department(self) -> bool {
        matches!(
            self,
            Role::Officer | Role::Supervisor | Role::DepartmentAdmin
        )
    }

    /// Field officers work in one district.
    pub fn needs_district(self) -> bool {
        matches!(self, Role::Officer)
    }
}

/// An authenticated member of staff (or an officer's device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub department: Option<DepartmentCode>,
    pub district: Option<DistrictCode>,
}

impl Principal {
    fn in_scope(&self, department: &DepartmentCode, district: &DistrictCode) -> bool {
        let dep_ok = self.department.as_ref().is_none_or(|d| d == department);
        let dis_ok = self.district.as_ref().is_none_or(|d| d == district);
        dep_ok && dis_ok
    }

    /// Only officers issue, and only for their own department and district.
    pub fn can_issue(&self, department: &DepartmentCode, district: &DistrictCode) -> bool {
        self.role == Role::Officer && self.in_scope(department, district)
    }

    /// Whether a record of this department and district exists for this user at all.
    pub fn can_view(&self, department: &DepartmentCode, district: &DistrictCode) -> bool {
        match self.role {
            Role::Admin | Role::Auditor | Role::Finance => true,
            Role::Officer | Role::Supervisor | Role::DepartmentAdmin => {
                self.in_scope(department, district)
            }
        }
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn scopes() {
        let trf = DepartmentCode::parse("traffic-police").unwrap();
        let exc = DepartmentCode::parse("excise-taxation").unwrap();
        let psh = DistrictCode::parse("peshawar").unwrap();
        let swt = DistrictCode::parse("swat").unwrap();
        let officer = p(Role::Officer, Some("traffic-police"), Some("peshawar"));
        assert!(officer.can_issue(&trf, &psh));
        assert!(!officer.can_issue(&trf, &swt));
        assert!(!officer.can_issue(&exc, &psh));
        assert!(!officer.can_view(&exc, &psh));
        let sup = p(Role::Supervisor, Some("traffic-police"), None);
        assert!(!sup.can_issue(&trf, &psh));
        assert!(sup.can_view(&trf, &swt));
        assert!(!sup.can_view(&exc, &swt));
        assert!(p(Role::Auditor, None, None).can_view(&exc, &swt));
    }
}
