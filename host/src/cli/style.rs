//! Terminal styling for the read commands: colour only on a terminal (never with
//! `--json`, when stdout is not a TTY, or with `NO_COLOR` set), plain ANSI SGR codes;
//! and sparklines.

use std::io::IsTerminal;

/// Whether to colour, decided once per command.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    on: bool,
}

impl Style {
    /// Colour on stdout unless `json`, stdout is not a terminal, or `NO_COLOR` is set
    /// (to anything but the empty string, as no-color.org says).
    pub fn stdout(json: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            on: !json && !no_color && std::io::stdout().is_terminal(),
        }
    }

    fn sgr(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    pub fn bold(&self, s: &str) -> String {
        self.sgr("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.sgr("2", s)
    }
    pub fn cyan(&self, s: &str) -> String {
        self.sgr("36", s)
    }
    pub fn green(&self, s: &str) -> String {
        self.sgr("32", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.sgr("33", s)
    }
    pub fn red(&self, s: &str) -> String {
        self.sgr("31", s)
    }

    /// A multiplier (already padded text) coloured by where it falls: 0 red, below
    /// halfway to `max` yellow, above green.
    pub fn multiplier(&self, text: &str, m: f64, max: f64) -> String {
        if m <= 0.0 {
            self.red(text)
        } else if m < 1.0 + (max - 1.0) / 2.0 {
            self.yellow(text)
        } else {
            self.green(text)
        }
    }
}

/// One glyph per value, `▁` at `lo` to `█` at `hi` (all `▄` when they are equal).
pub fn sparkline(values: &[f64], lo: f64, hi: f64) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    values
        .iter()
        .map(|v| {
            if hi - lo <= f64::EPSILON {
                BARS[3]
            } else {
                let t = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
                BARS[(t * 7.0).round() as usize]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_has_one_glyph_per_value_from_low_to_high() {
        let s = sparkline(&[0.0, 0.75, 1.5], 0.0, 1.5);
        assert_eq!(s, "▁▅█");
        assert_eq!(sparkline(&[1.0, 1.0], 1.0, 1.0).chars().count(), 2);
        assert_eq!(sparkline(&[], 0.0, 1.0), "");
    }

    #[test]
    fn plain_when_off() {
        let s = Style { on: false };
        assert_eq!(s.bold("x"), "x");
        assert_eq!(Style { on: true }.red("x"), "\x1b[31mx\x1b[0m");
    }
}
