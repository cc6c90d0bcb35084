"""Pure domain: household fold, early-warning rules, reminder and cost policy, routing. No I/O."""
