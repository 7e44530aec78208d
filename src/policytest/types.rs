//! The assertions of a policy-test file as `parse` reads them and `run`
//! answers them, and the outcome of each (a leaf: it imports neither).

use std::ops::Range;

use crate::authz::Access;
use crate::diag::{Code, Diagnostic, Source};
use crate::policy::{Object, RestCall};

/// Where something is in a policy-test file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spot {
    pub file: String,
    pub span: Range<usize>,
    pub line: u32,
    pub col: u32,
}

impl Spot {
    pub fn new(src: &Source, span: Range<usize>) -> Spot {
        let (line, col) = src.line_col(span.start);
        Spot {
            file: src.path.to_owned(),
            span,
            line,
            col,
        }
    }

    /// A diagnostic located here.
    pub fn diag(&self, code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            file: self.file.clone(),
            span: self.span.clone(),
            line: self.line,
            col: self.col,
            message: message.into(),
            notes: Vec::new(),
            related: Vec::new(),
        }
    }
}

/// A string value and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub value: String,
    pub at: Spot,
}

/// What a permission or REST assertion expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Allow,
    Deny,
}

impl Expect {
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Allow => "allow",
            Expect::Deny => "deny",
        }
    }
}

/// One assertion's question and expected answer.
#[derive(Debug, Clone)]
pub enum Check {
    /// `[[svn]]`: what Subversion enforces, from the rendered access file.
    Svn {
        user: Text,
        path: Text,
        repository: Option<Text>,
        access: Access,
    },
    /// `[[permission]]`: a Polarion permission decision.
    Permission {
        user: Text,
        permission: Text,
        project: Option<Text>,
        object: Object,
        expect: Expect,
    },
    /// `[[rest]]`: a REST call, both layers.
    Rest {
        user: Text,
        call: RestCall,
        call_text: Text,
        object: Object,
        expect: Expect,
    },
    /// `[[group]]`: a group of the rendered access file.
    Group {
        name: Text,
        never_empty: bool,
        has_member: Vec<Text>,
        lacks_member: Vec<Text>,
    },
}

/// One assertion: its `[[…]]` header and its check.
#[derive(Debug, Clone)]
pub struct Assertion {
    pub at: Spot,
    pub check: Check,
}

/// What running one assertion gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub at: Spot,
    /// The assertion in a few words (`svn alice elibrary:/trunk is rw`).
    pub what: String,
    pub passed: bool,
    /// The answer it got (`r`, `deny`, `empty`, …).
    pub got: String,
}
