//! Example operators built on operator-runtime (DataCluster).
