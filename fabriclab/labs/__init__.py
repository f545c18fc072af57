"""Teaching labs: the registry of exercises in labs/, `lab start` and the grader (`lab check`).

Each lab folder (labs/<n>-<slug>/) holds a README, the student's program with TODO holes,
solution/ and grader/ (hidden STF tests); lab.json says how the pieces fit. The labs drive
the rest of fabriclab only through its public commands and APIs (`fabriclab net`,
fabriclab.p4.compile_file, fabriclab.switch.stf), so they keep working as the layers below
change.
"""
