//! Behaviour suite for operator-runtime ObjectStore backends, generic over the store.
