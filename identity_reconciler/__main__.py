from identity_reconciler.cli import main

raise SystemExit(main())
