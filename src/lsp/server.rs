//! The server loop: the `initialize` handshake, then every message in order. A change only
//! updates the text; diagnostics are published once no message is waiting, so a burst of
//! keystrokes is compiled once, and always for the latest version.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Exit, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest,
    PrepareRenameRequest, References, Rename, Request as _, Shutdown,
};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, CompletionOptions,
    CompletionResponse, DocumentSymbolResponse, GotoDefinitionResponse, HoverProviderCapability,
    InitializeParams, MarkupKind, OneOf, PositionEncodingKind, PublishDiagnosticsParams,
    RenameOptions, ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, Uri,
};

use super::analysis::Analysis;
use super::document::{Document, Documents};
use super::position::Encoding;
use super::{Client, actions, completion, diagnostics, formatting, hover, navigation, outline};

/// `RequestFailed`: the request was valid but could not be carried out (the message says why).
const REQUEST_FAILED: i32 = -32803;

/// What the client can take, from its `initialize` request.
fn client(params: &InitializeParams) -> Client {
    let caps = &params.capabilities;
    let utf8 = caps
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref())
        .is_some_and(|e| e.contains(&PositionEncodingKind::UTF8));
    let text = caps.text_document.as_ref();
    Client {
        encoding: if utf8 {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        },
        snippets: text
            .and_then(|t| t.completion.as_ref())
            .and_then(|c| c.completion_item.as_ref())
            .and_then(|i| i.snippet_support)
            .unwrap_or(false),
        markdown: text
            .and_then(|t| t.hover.as_ref())
            .and_then(|h| h.content_format.as_ref())
            .is_some_and(|f| f.contains(&MarkupKind::Markdown)),
        nested_symbols: text
            .and_then(|t| t.document_symbol.as_ref())
            .and_then(|s| s.hierarchical_document_symbol_support)
            .unwrap_or(false),
        prepare_rename: text
            .and_then(|t| t.rename.as_ref())
            .and_then(|r| r.prepare_support)
            .unwrap_or(false),
    }
}

fn capabilities(client: &Client) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match client.encoding {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                ..TextDocumentSyncOptions::default()
            },
        )),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_string(), "(".to_string()]),
            ..CompletionOptions::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(if client.prepare_rename {
            OneOf::Right(RenameOptions {
                prepare_provider: Some(true),
                work_done_progress_options: Default::default(),
            })
        } else {
            OneOf::Left(true)
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        document_symbol_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// How the session ended.
#[derive(Debug, PartialEq)]
pub enum End {
    /// `shutdown` then `exit`, as the protocol wants.
    Clean,
    /// `exit` without `shutdown`, or the client went away.
    Abrupt,
}

/// Runs the handshake and the session until `exit` or the end of the input.
pub fn run(connection: &Connection) -> Result<End, String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let params: InitializeParams = match serde_json::from_value(params) {
        Ok(p) => p,
        Err(e) => {
            let message = format!("invalid initialize parameters: {e}");
            let _ = connection.sender.send(Message::Response(Response::new_err(
                id,
                ErrorCode::InvalidParams as i32,
                message.clone(),
            )));
            return Err(message);
        }
    };
    let client = client(&params);
    let result = serde_json::json!({
        "capabilities": capabilities(&client),
        "serverInfo": { "name": "kload", "version": env!("CARGO_PKG_VERSION") },
    });
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    let mut server = Server {
        connection,
        client,
        documents: Documents::default(),
        dirty: BTreeSet::new(),
        shutting_down: false,
    };
    Ok(server.run())
}

struct Server<'a> {
    connection: &'a Connection,
    client: Client,
    documents: Documents,
    /// Documents changed since their diagnostics were last published.
    dirty: BTreeSet<Uri>,
    shutting_down: bool,
}

impl Server<'_> {
    fn run(&mut self) -> End {
        loop {
            let message = if self.dirty.is_empty() {
                match self.connection.receiver.recv() {
                    Ok(m) => m,
                    Err(_) => return End::Abrupt,
                }
            } else {
                match self.connection.receiver.try_recv() {
                    Ok(m) => m,
                    Err(e) if e.is_empty() => {
                        self.publish_changed();
                        continue;
                    }
                    Err(_) => return End::Abrupt,
                }
            };
            match message {
                Message::Request(req) => {
                    let response = self.request(req);
                    self.send(Message::Response(response));
                }
                Message::Notification(n) if n.method == Exit::METHOD => {
                    return if self.shutting_down {
                        End::Clean
                    } else {
                        End::Abrupt
                    };
                }
                Message::Notification(n) => self.notification(n),
                Message::Response(_) => {}
            }
        }
    }

    fn send(&self, message: Message) {
        // The client is gone when this fails: the loop ends on the next receive.
        let _ = self.connection.sender.send(message);
    }

    fn notification(&mut self, n: Notification) {
        let encoding = self.client.encoding;
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) =
                    n.extract::<lsp_types::DidOpenTextDocumentParams>(DidOpenTextDocument::METHOD)
                {
                    let doc = p.text_document;
                    self.documents.open(doc.uri.clone(), doc.text, doc.version);
                    self.dirty.insert(doc.uri);
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) = n.extract::<lsp_types::DidChangeTextDocumentParams>(
                    DidChangeTextDocument::METHOD,
                ) {
                    let uri = p.text_document.uri;
                    if let Some(doc) = self.documents.get_mut(&uri) {
                        doc.apply(p.content_changes, p.text_document.version, encoding);
                        self.dirty.insert(uri);
                    }
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) =
                    n.extract::<lsp_types::DidCloseTextDocumentParams>(DidCloseTextDocument::METHOD)
                {
                    let uri = p.text_document.uri;
                    self.documents.close(&uri);
                    self.dirty.remove(&uri);
                    // A closed file's diagnostics are cleared.
                    self.publish(uri, Vec::new(), None);
                }
            }
            _ => {}
        }
    }

    fn publish_changed(&mut self) {
        for uri in std::mem::take(&mut self.dirty) {
            let Some(doc) = self.documents.get_mut(&uri) else {
                continue;
            };
            let analysis = doc.analysis();
            let lines = doc.lines(self.client.encoding);
            let list = analysis
                .diagnostics
                .iter()
                .map(|d| diagnostics::to_lsp(d, &uri, &lines))
                .collect();
            let version = doc.version;
            self.publish(uri, list, Some(version));
        }
    }

    fn publish(&self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.send(Message::Notification(Notification::new(
            PublishDiagnostics::METHOD.to_string(),
            params,
        )));
    }

    fn request(&mut self, req: Request) -> Response {
        if self.shutting_down {
            return Response::new_err(
                req.id,
                ErrorCode::InvalidRequest as i32,
                "the server is shutting down".to_string(),
            );
        }
        match req.method.as_str() {
            Shutdown::METHOD => {
                self.shutting_down = true;
                Response::new_ok(req.id, ())
            }
            Completion::METHOD => self.answer::<Completion>(req, |s, p| {
                let at = p.text_document_position;
                s.with_document(&at.text_document.uri, |doc, analysis, client| {
                    let lines = doc.lines(client.encoding);
                    let offset = lines.offset(at.position);
                    let items = completion::complete(&doc.text, offset, analysis, &lines, client);
                    Ok(Some(CompletionResponse::Array(items)))
                })
            }),
            HoverRequest::METHOD => self.answer::<HoverRequest>(req, |s, p| {
                let at = p.text_document_position_params;
                s.with_document(&at.text_document.uri, |doc, analysis, client| {
                    let lines = doc.lines(client.encoding);
                    let offset = lines.offset(at.position);
                    Ok(hover::hover(&doc.text, offset, analysis, &lines, client))
                })
            }),
            GotoDefinition::METHOD => self.answer::<GotoDefinition>(req, |s, p| {
                let at = p.text_document_position_params;
                let uri = at.text_document.uri;
                s.with_document(&uri, |doc, analysis, client| {
                    let lines = doc.lines(client.encoding);
                    let offset = lines.offset(at.position);
                    let found = navigation::definition(
                        &uri,
                        &doc.text,
                        offset,
                        analysis,
                        &lines,
                        client.encoding,
                    );
                    Ok(Some(GotoDefinitionResponse::Array(found)))
                })
            }),
            References::METHOD => self.answer::<References>(req, |s, p| {
                let at = p.text_document_position;
                let uri = at.text_document.uri;
                s.with_document(&uri, |doc, analysis, client| {
                    let lines = doc.lines(client.encoding);
                    let offset = lines.offset(at.position);
                    let found = navigation::references(
                        &uri,
                        &doc.text,
                        offset,
                        analysis,
                        &lines,
                        p.context.include_declaration,
                    );
                    Ok(Some(found))
                })
            }),
            PrepareRenameRequest::METHOD => self.answer::<PrepareRenameRequest>(req, |s, p| {
                s.with_document(&p.text_document.uri, |doc, analysis, client| {
                    let lines = doc.lines(client.encoding);
                    let offset = lines.offset(p.position);
                    navigation::prepare_rename(&doc.text, offset, analysis, &lines).map(Some)
                })
            }),
            Rename::METHOD => self.answer::<Rename>(req, |s, p| {
                let at = p.text_document_position;
                let uri = at.text_document.uri;
                s.with_document(&uri, |doc, analysis, client| {
                    let lines = doc.lines(client.encoding);
                    let offset = lines.offset(at.position);
                    navigation::rename(&uri, &doc.text, offset, &p.new_name, analysis, &lines)
                        .map(Some)
                })
            }),
            Formatting::METHOD => self.answer::<Formatting>(req, |s, p| {
                s.with_document(&p.text_document.uri, |doc, analysis, client| {
                    let lines = doc.lines(client.encoding);
                    formatting::format(&doc.text, analysis, &lines).map(Some)
                })
            }),
            CodeActionRequest::METHOD => self.answer::<CodeActionRequest>(req, |s, p| {
                let uri = p.text_document.uri;
                s.with_document(&uri, |doc, analysis, client| {
                    let lines = doc.lines(client.encoding);
                    let range = lines.span(p.range);
                    Ok(Some(actions::quick_fixes(
                        &uri, &doc.text, analysis, &lines, range,
                    )))
                })
            }),
            DocumentSymbolRequest::METHOD => self.answer::<DocumentSymbolRequest>(req, |s, p| {
                let uri = p.text_document.uri;
                s.with_document(&uri, |doc, analysis, client| {
                    let lines = doc.lines(client.encoding);
                    let Some(tree) = analysis.tree_or_repaired(&doc.text) else {
                        return Ok(None);
                    };
                    let entries = outline::outline(tree, &doc.text);
                    Ok(Some(if client.nested_symbols {
                        DocumentSymbolResponse::Nested(outline::nested(entries, &lines))
                    } else {
                        DocumentSymbolResponse::Flat(outline::flat(entries, &uri, &lines, None))
                    }))
                })
            }),
            _ => Response::new_err(
                req.id,
                ErrorCode::MethodNotFound as i32,
                format!("kload lsp does not handle `{}`", req.method),
            ),
        }
    }

    /// Reads the parameters of `req`, runs `f`, and turns its result into the response. A
    /// panic in `f` (a bug of ours) answers this request with an error; the session goes on.
    fn answer<R>(
        &mut self,
        req: Request,
        f: impl FnOnce(&mut Self, R::Params) -> Result<R::Result, String>,
    ) -> Response
    where
        R: lsp_types::request::Request,
    {
        let id: RequestId = req.id.clone();
        let params: R::Params = match serde_json::from_value(req.params) {
            Ok(p) => p,
            Err(e) => {
                return Response::new_err(
                    id,
                    ErrorCode::InvalidParams as i32,
                    format!("invalid parameters for {}: {e}", R::METHOD),
                );
            }
        };
        match catch_unwind(AssertUnwindSafe(|| f(self, params))) {
            Ok(Ok(result)) => Response::new_ok(id, result),
            Ok(Err(message)) => Response::new_err(id, REQUEST_FAILED, message),
            Err(_) => Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                format!(
                    "kload lsp failed on {} (a bug: please report it)",
                    R::METHOD
                ),
            ),
        }
    }

    /// Runs `f` on an open document and its current analysis.
    fn with_document<T>(
        &mut self,
        uri: &Uri,
        f: impl FnOnce(&Document, &Analysis, &Client) -> Result<T, String>,
    ) -> Result<T, String> {
        let client = self.client;
        let doc = self
            .documents
            .get_mut(uri)
            .ok_or_else(|| format!("{} is not open", uri.as_str()))?;
        let analysis = doc.analysis();
        f(doc, &analysis, &client)
    }
}
