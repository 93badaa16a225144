"""The controller of one region: functions, runbook state machine, triggers, operator
access and alarms (``stacks.controller.controller.Controller``)."""
