//! Sans-IO framed message codec. (Filled by the proto issue.)
