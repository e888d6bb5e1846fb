from bot.cli import main

# Guarded: worker processes (``bot.core.knowledge`` parses large knowledge bases in parallel) may
# import this module again and must not start the program.
if __name__ == "__main__":
    raise SystemExit(main())
