"""Case and finding statuses, listed once (the store, the triage and the CLI use them)."""

# what compliance staff set a case to; a finding's effective status may also be `waived` (a waiver
# in force on its day), never stored on the case
CASE_STATUSES = ("open", "confirmed", "false_positive", "resolved")
FINDING_STATUSES = (*CASE_STATUSES, "waived")
