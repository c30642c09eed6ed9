"""What every command-line tool shares besides ``errors.cli_main``."""
import argparse


def tool_parser(doc, prog=None):
    """An ArgumentParser whose description is the first paragraph of the
    tool's docstring ``doc`` and whose epilog is the rest, kept as written
    (``prog``: the command's name when not the script's)."""
    head, _, rest = doc.strip("\n").partition("\n\n")
    return argparse.ArgumentParser(prog=prog, description=head, epilog=rest or None,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
