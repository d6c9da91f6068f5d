//! Statistics: per-user recorders, the aggregator and the serializable summary.
