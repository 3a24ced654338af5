"""Pure timer bookkeeping rules of the closer: which event schedules or cancels which timer,
and which close command a due timer becomes."""
