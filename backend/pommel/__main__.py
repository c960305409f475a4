from pommel.cli import main

raise SystemExit(main())
