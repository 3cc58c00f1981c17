//! A desired set reduced to what a plan of already verified children reads: [`Skeleton`].

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{BuildError, Child, ChildKey, DesiredSet, Group, Ownership};
use crate::hash::HASH_ANNOTATION;
use crate::model::{Object, TypeRef};

/// A [`DesiredSet`] kept as its groups and, per child, its identity, group and desired hash:
/// what a plan reads of children whose every version or `Apply` entry an earlier plan
/// verified (the plan compares the desired hash with the live object's and looks the
/// fingerprints up; it reads no other desired value). About 2.8 KB for the benchmark's 12
/// children, against 87 KB for the finished objects, so a pure operator's driver can keep one
/// per parent ([`crate::reconcile::DynamicOperator::is_pure`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Skeleton {
    groups: Vec<Group>,
    children: Vec<Bone>,
}

/// One child of a [`Skeleton`].
#[derive(Clone, Debug, PartialEq, Eq)]
struct Bone {
    type_ref: TypeRef,
    namespace: Option<String>,
    name: String,
    /// Position of its group in [`Skeleton::groups`].
    group: usize,
    hash: String,
}

impl DesiredSet {
    /// This set's skeleton.
    pub(crate) fn skeleton(&self) -> Skeleton {
        let children = self
            .children
            .values()
            .map(|child| Bone {
                type_ref: child.object.type_ref(),
                namespace: child.object.metadata.namespace.clone(),
                name: child.object.name().to_owned(),
                group: self
                    .groups
                    .iter()
                    .position(|g| g.name == child.group)
                    .unwrap_or(usize::MAX),
                hash: child.object.annotation(HASH_ANNOTATION).unwrap_or_default().to_owned(),
            })
            .collect();
        Skeleton {
            groups: self.groups.clone(),
            children,
        }
    }

    /// A set for `parent` whose children are the skeleton's, each an object with only its
    /// identity and desired-hash annotation: for [`crate::plan::plan_verified`] and the
    /// readiness assessment, which read nothing else.
    ///
    /// # Errors
    /// As [`DesiredSet::new`].
    pub(crate) fn from_skeleton(
        parent: &Object,
        ownership: &Ownership,
        skeleton: &Skeleton,
    ) -> Result<Self, BuildError> {
        let mut set = Self::new(parent, ownership)?;
        set.groups.clone_from(&skeleton.groups);
        for bone in &skeleton.children {
            let mut object = Object::new(&bone.type_ref, bone.namespace.as_deref(), &bone.name);
            object.metadata.annotations = Some(BTreeMap::from([(HASH_ANNOTATION.to_owned(), bone.hash.clone())]));
            let group = skeleton
                .groups
                .get(bone.group)
                .map(|g| g.name.clone())
                .unwrap_or_default();
            set.children.insert(
                ChildKey::of(&object),
                Child {
                    group,
                    object: Arc::new(object),
                },
            );
        }
        Ok(set)
    }
}
