from fabriclab.cli import main

raise SystemExit(main())
