"""The registry's core: the model, enumerations, validation, the clock, who may do what, users,
optimistic concurrency, cross-record rules, the audit trail, parameters and tables."""
