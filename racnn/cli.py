"""What every command-line tool shares besides ``errors.cli_main``."""
import argparse


def tool_parser(doc):
    """An ArgumentParser whose description is the first paragraph of the
    tool's docstring ``doc`` and whose epilog is the rest, kept as written."""
    head, _, rest = doc.strip("\n").partition("\n\n")
    return argparse.ArgumentParser(description=head, epilog=rest or None,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
