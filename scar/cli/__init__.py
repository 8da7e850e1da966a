"""The command-line interface: the argparse tree, one handler per command, and output rendering."""
