#!/usr/bin/env python3
"""Decodes MVT files with the `mapbox-vector-tile` package (a decoder we did not
write) and prints them as JSON for tests/tests/mvt_clients.rs.

    decode.py TILE.mvt [TILE.mvt ...]

Output: {"<file>": {"<layer>": {"extent": 4096, "version": 2, "features": [
    {"id": 7, "properties": {...}, "type": "Point", "coordinates": [...]}]}}}
Coordinates are raw tile pixels with y pointing down (`y_coord_down`), so they
compare directly with the integers in the tile.
"""
import json
import sys

import mapbox_vector_tile


def decode(path):
    with open(path, "rb") as f:
        data = f.read()
    tile = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    out = {}
    for name, layer in tile.items():
        features = []
        for feature in layer["features"]:
            geometry = feature["geometry"]
            features.append(
                {
                    "id": feature.get("id"),
                    "properties": feature["properties"],
                    "type": geometry["type"],
                    "coordinates": geometry["coordinates"],
                }
            )
        out[name] = {
            "extent": layer.get("extent"),
            "version": layer.get("version"),
            "features": features,
        }
    return out


def main(paths):
    if not paths:
        sys.exit("usage: decode.py TILE.mvt [TILE.mvt ...]")
    json.dump({p: decode(p) for p in paths}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1:])
