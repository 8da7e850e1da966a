#!/bin/bash
# OSCAR runs this with the input file in $INPUT_FILE_PATH and uploads what lands in $TMP_OUTPUT_DIR.
set -euo pipefail
name=$(basename "$INPUT_FILE_PATH")
echo "classifying $name"
python2 /opt/plant-classification/synset.py -i "$INPUT_FILE_PATH" -o "$TMP_OUTPUT_DIR/${name%.*}.txt"
