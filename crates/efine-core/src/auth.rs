//! Staff roles, and who may do what: one function, [`Principal::may`], answers for every layer
//! (store operations, services, API handlers and console pages), so a rule is written once.
//!
//! Scope is by department and district: a record outside a user's scope does not exist for them
//! (404, not 403), so its number leaks nothing. Four-eyes rules that need the record (the decider
//! is not the requester) are [`Principal::may_decide`] and [`four_eyes`], asked where the record
//! is read. A decider is neither the requester nor anyone whose account the requester created,
//! enabled, reset or granted a role ([`Decider::sponsors`]): otherwise one admin could make a
//! second account and approve their own request with it.
//!
//! Logins: [`password`] (one policy), [`totp`] (the second factor), [`throttle`] (delays and
//! locks after failures).

pub mod password;
pub mod throttle;
pub mod totp;

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

    /// Roles that approve someone else's request (cancellations, appeals, refunds, role grants):
    /// granting one needs a second admin ([`four_eyes`]).
    pub fn approves(self) -> bool {
        matches!(
            self,
            Role::Supervisor | Role::DepartmentAdmin | Role::Finance | Role::Admin
        )
    }

    /// Roles that sign in with a second factor ([`totp`]): those that approve, and auditors,
    /// who read everything.
    pub fn needs_second_factor(self) -> bool {
        self.approves() || self == Role::Auditor
    }

    /// Finance, auditors and admins work for the whole province: every department and district.
    fn province_wide(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor | Role::Finance)
    }
}

/// What staff do. Every authorisation check in the system names one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Issue a challan for a department and district (officers, their own only).
    IssueChallan,
    /// Read a challan, its history, its appeal or cancellation requests (within scope).
    ReadChallan,
    /// Ask for a challan to be cancelled.
    RequestCancellation,
    /// Approve or reject someone else's cancellation request.
    DecideCancellation,
    /// Uphold, reduce or quash an appeal.
    DecideAppeal,
    /// See the queues of pending cancellations and appeals in the console.
    ReadQueues,
    /// Look up a vehicle's unpaid challans at a checkpoint.
    CheckVehicle,
    /// Take cash for a challan at a department counter.
    RecordCounterCash,
    /// Read a day's counter cash-up.
    ReadCashUp,
    /// Request, approve or reject refunds.
    HandleRefunds,
    /// Read refund liabilities and refunds.
    ReadRefunds,
    /// Import a rail's settlement file for reconciliation.
    Reconcile,
    /// Read the figures (summary, trends, dashboard), limited to the reader's scope.
    ReadStatistics,
    /// See and add staff accounts.
    ManageUsers,
    /// Change the offence and fee schedule of a department.
    ChangeSchedule,
    /// Sign and publish the event log's head now (it is also published daily).
    PublishLogHead,
    /// Browse the whole event log and run the read-only chain and record check.
    VerifyRecord,
    /// Verify a citizen's paid fee voucher at a department's counter and mark it used.
    ConsumeVoucher,
}

impl Action {
    pub const ALL: [Action; 18] = [
        Action::IssueChallan,
        Action::ReadChallan,
        Action::RequestCancellation,
        Action::DecideCancellation,
        Action::DecideAppeal,
        Action::ReadQueues,
        Action::CheckVehicle,
        Action::RecordCounterCash,
        Action::ReadCashUp,
        Action::HandleRefunds,
        Action::ReadRefunds,
        Action::Reconcile,
        Action::ReadStatistics,
        Action::ManageUsers,
        Action::ChangeSchedule,
        Action::PublishLogHead,
        Action::VerifyRecord,
        Action::ConsumeVoucher,
    ];

    /// Whether `role` does this at all, before any department or district is considered.
    fn allowed(self, role: Role) -> bool {
        use Role::*;
        match self {
            Action::IssueChallan => role == Officer,
            Action::ReadChallan | Action::ReadStatistics => true,
            Action::RequestCancellation => {
                matches!(role, Officer | Supervisor | DepartmentAdmin | Admin)
            }
            Action::DecideCancellation | Action::DecideAppeal => {
                matches!(role, Supervisor | DepartmentAdmin)
            }
            Action::ReadQueues => matches!(role, Supervisor | Admin),
            Action::CheckVehicle => role != Finance,
            Action::RecordCounterCash | Action::Reconcile => role == Finance,
            Action::ReadCashUp | Action::ReadRefunds => matches!(role, Finance | Auditor | Admin),
            Action::HandleRefunds => matches!(role, Finance | Admin),
            Action::ManageUsers => role == Admin,
            Action::ChangeSchedule => matches!(role, DepartmentAdmin | Admin),
            // Publishing changes no record: it signs what is there, so the auditor may.
            Action::PublishLogHead => matches!(role, Admin | Auditor),
            // Reading every event changes nothing; it is the auditor's work.
            Action::VerifyRecord => matches!(role, Admin | Auditor),
            Action::ConsumeVoucher => {
                matches!(role, Officer | Supervisor | DepartmentAdmin | Admin)
            }
        }
    }

    /// Why a role that does not do this is refused; shown to the caller.
    pub fn refusal(self) -> &'static str {
        match self {
            Action::IssueChallan => "only officers issue challans",
            Action::ReadChallan | Action::ReadStatistics => "outside your department or district",
            Action::RequestCancellation => {
                "cancellations are requested by officers, supervisors and admins"
            }
            Action::DecideCancellation | Action::DecideAppeal => {
                "only a supervisor of the challan's department decides this"
            }
            Action::ReadQueues => "the queues are for supervisors and admins",
            Action::CheckVehicle => {
                "checkpoint lookups are for officers, supervisors, admins and auditors"
            }
            Action::RecordCounterCash => "only finance records counter cash",
            Action::ReadCashUp => "the cash-up is for finance, auditors and admins",
            Action::HandleRefunds => "refunds are handled by finance",
            Action::ReadRefunds => "refunds are for finance, auditors and admins",
            Action::Reconcile => "settlement files are imported by finance",
            Action::ManageUsers => "staff accounts are managed by admins",
            Action::ChangeSchedule => "the schedule is changed by department admins and admins",
            Action::PublishLogHead => "the log head is published by admins and auditors",
            Action::VerifyRecord => "the event log and its check are for auditors and admins",
            Action::ConsumeVoucher => {
                "fee vouchers are used up at the counter by the department's staff"
            }
        }
    }
}

/// The department and district a record belongs to; `None` where it belongs to none, or where
/// no particular record is meant (then only the role is asked: "may this user ever do this").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scope<'a> {
    pub department: Option<&'a DepartmentCode>,
    pub district: Option<&'a DistrictCode>,
}

impl<'a> Scope<'a> {
    /// No particular record: the role alone decides.
    pub const ANY: Scope<'static> = Scope {
        department: None,
        district: None,
    };

    /// A record of a department and district (a challan, its appeal or cancellation request).
    pub fn of(department: &'a DepartmentCode, district: &'a DistrictCode) -> Scope<'a> {
        Scope {
            department: Some(department),
            district: Some(district),
        }
    }

    /// A record of a department only (an offence of the schedule).
    pub fn department(department: &'a DepartmentCode) -> Scope<'a> {
        Scope {
            department: Some(department),
            district: None,
        }
    }

    /// Whether a user limited to `self` (a reach: `None` is no limit) reaches `record`.
    fn covers(&self, record: &Scope<'_>) -> bool {
        let dep_ok = match (self.department, record.department) {
            (Some(mine), Some(theirs)) => mine == theirs,
            _ => true,
        };
        let dis_ok = match (self.district, record.district) {
            (Some(mine), Some(theirs)) => mine == theirs,
            _ => true,
        };
        dep_ok && dis_ok
    }
}

/// Why [`Principal::may`] or a four-eyes rule said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The principal's role does not do this.
    #[error("{}", .0.refusal())]
    Role(Action),
    /// The role does, but not for this department or district. For reading, the record does
    /// not exist for this user (answer 404, not 403).
    #[error("{}", .0.refusal())]
    Scope(Action),
    /// The decider made the request (or issued the challan) themselves.
    #[error("a request must be decided by someone other than who made it")]
    OwnRequest,
    /// The decider's account was created, enabled, reset or granted its role by the requester.
    #[error("a request cannot be decided by an account its requester created, enabled or reset")]
    Sponsored,
}

/// Who decides a four-eyes request: their username, and the accounts that made their account
/// what it is (created it, enabled it, reset its password, requested or approved its role), as
/// the event log records them.
#[derive(Debug, Clone, Copy)]
pub struct Decider<'a> {
    pub username: &'a str,
    pub sponsors: &'a [String],
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
    /// The department and district this user's reading (records, lists, figures) is limited
    /// to: none for province-wide roles, else their own where their account names one.
    pub fn reach(&self) -> Scope<'_> {
        if self.role.province_wide() {
            Scope::ANY
        } else {
            self.own()
        }
    }

    /// The department and district on the account, whatever the role.
    fn own(&self) -> Scope<'_> {
        Scope {
            department: self.department.as_ref(),
            district: self.district.as_ref(),
        }
    }

    /// Whether this user may do `action` on a record of `scope` (or at all, with
    /// [`Scope::ANY`]). The one authorisation function: every layer asks it.
    pub fn may(&self, action: Action, scope: &Scope<'_>) -> Result<(), Denied> {
        if !action.allowed(self.role) {
            return Err(Denied::Role(action));
        }
        let in_scope = match action {
            // Acting on a record: the user's own department and district, whatever the role
            // reads (an admin reads everything but schedules only where the account allows).
            Action::IssueChallan | Action::ChangeSchedule => self.own().covers(scope),
            // Deciding is for a supervisor of the record's department.
            Action::DecideCancellation | Action::DecideAppeal => match scope.department {
                Some(d) => self.department.as_ref() == Some(d),
                None => true,
            },
            // Reading, and requesting what one can read.
            Action::ReadChallan | Action::ReadStatistics | Action::RequestCancellation => {
                self.reach().covers(scope)
            }
            // A voucher is used up at its own department, in any district.
            Action::ConsumeVoucher => match (self.department.as_ref(), scope.department) {
                (Some(mine), Some(theirs)) => mine == theirs,
                _ => true,
            },
            // Province-wide work: no record scope.
            Action::ReadQueues
            | Action::CheckVehicle
            | Action::RecordCounterCash
            | Action::ReadCashUp
            | Action::HandleRefunds
            | Action::ReadRefunds
            | Action::Reconcile
            | Action::ManageUsers
            | Action::PublishLogHead
            | Action::VerifyRecord => true,
        };
        if in_scope {
            Ok(())
        } else {
            Err(Denied::Scope(action))
        }
    }

    /// Four eyes: this user (whose account's sponsors are `sponsors`) may decide a request made
    /// (or a challan issued) by `requested_by` only if they are someone else, and not someone
    /// whose account `requested_by` created, enabled, reset or granted a role.
    pub fn may_decide(&self, sponsors: &[String], requested_by: &str) -> Result<(), Denied> {
        four_eyes(
            &Decider {
                username: &self.username,
                sponsors,
            },
            requested_by,
        )
    }
}

/// Four eyes: `decider` is not `requested_by`, and `requested_by` did not create, enable, reset
/// or grant a role to the decider's account.
pub fn four_eyes(decider: &Decider<'_>, requested_by: &str) -> Result<(), Denied> {
    if decider.username == requested_by {
        Err(Denied::OwnRequest)
    } else if decider.sponsors.iter().any(|s| s == requested_by) {
        Err(Denied::Sponsored)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
