//! Compact text for dry-run output and logs: a summary line, then one line per item that does
//! something (`{:#}` also lists unchanged items).
//!
//! ```text
//! Db prod/db1: 1 create, 1 update, 0 recreate, 1 delete, 2 unchanged, 1 waiting, 0 blocked
//!   [config] update ConfigMap prod/db1-config (spec changed): data.mode: fast -> safe
//!   [data] create StatefulSet prod/db1-data
//!   [web] wait Deployment prod/db1-web: group data is not ready (then update)
//!   delete ConfigMap prod/db1-old (orphan)
//! ```

use std::fmt;

use super::Plan;
use super::action::{Action, BlockReason, PlanCounts, PlanItem, UpdateReason, WaitReason};
use super::diff::FieldChange;

impl fmt::Display for PlanCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} create, {} update, {} recreate, {} delete, {} unchanged, {} waiting, {} blocked",
            self.creates, self.updates, self.recreates, self.deletes, self.unchanged, self.waiting, self.blocked
        )
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.parent, self.counts())?;
        if self.first_install {
            write!(f, " (first install)")?;
        }
        if !self.skipped_kinds.is_empty() {
            let kinds: Vec<String> = self.skipped_kinds.iter().map(ToString::to_string).collect();
            write!(f, " (not listed: {})", kinds.join(", "))?;
        }
        for item in &self.items {
            if f.alternate() || item.action != Action::Unchanged {
                write!(f, "\n  {item}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for PlanItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(group) = &self.group {
            write!(f, "[{group}] ")?;
        }
        write!(f, "{} {}", self.action.verb(), self.key)?;
        match &self.action {
            Action::Create | Action::Unchanged => Ok(()),
            Action::Delete => write!(f, " (orphan)"),
            Action::Update { reason, changes } => {
                let why = match reason {
                    UpdateReason::HashChanged => "spec changed",
                    UpdateReason::Drift => "drift",
                    UpdateReason::Adopt => "adopt",
                };
                write!(f, " ({why})")?;
                write_changes(f, changes)
            }
            Action::Recreate { immutable, .. } => {
                write!(f, " (immutable field changed)")?;
                write_changes(f, immutable)
            }
            Action::Wait { reason, pending } => {
                match reason {
                    WaitReason::GroupNotReady { group } => write!(f, ": group {group} is not ready")?,
                    WaitReason::Terminating => write!(f, ": still terminating")?,
                }
                write!(f, " (then {})", pending.verb())
            }
            Action::Blocked { reason } => match reason {
                BlockReason::ImmutableChange { changes } => {
                    write!(f, ": immutable field changed and recreate is not allowed")?;
                    write_changes(f, changes)
                }
                BlockReason::OwnedByOther { owner } => {
                    write!(f, ": controlled by {} {} (uid {})", owner.kind, owner.name, owner.uid)
                }
                BlockReason::NotOwned => write!(f, ": exists without a controller and adoption is off"),
                BlockReason::KindNotListed => write!(f, ": its kind could not be listed"),
            },
        }
    }
}

fn write_changes(f: &mut fmt::Formatter<'_>, changes: &[FieldChange]) -> fmt::Result {
    for (i, change) in changes.iter().enumerate() {
        write!(f, "{}{change}", if i == 0 { ": " } else { "; " })?;
    }
    Ok(())
}
