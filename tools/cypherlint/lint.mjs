#!/usr/bin/env node
// Lint graphmem's Cypher with Neo4j's own language support (@neo4j-cypher/language-support).
//
//   node lint.mjs FILE_OR_DIR...     lint .cypher files (directories recursively)
//   node lint.mjs --json < in.json   lint statements given as [{"name", "text", "params": [...]}]
//
// Each statement is checked as Cypher 5 against the functions and procedures of a Neo4j 5 server
// with the Graph Data Science library (the registry the package ships, without APOC, which
// graphmem does not use), so an unknown or misspelled function or procedure is an error.
// Parameters are declared in a file's header (`// @param name`) or in the JSON "params" list;
// a declared $parameter is fine, an undeclared one is an error.
//
// Prints one line per diagnostic (`file:line:col: severity: message`) and, with --json, a JSON
// report on stdout instead. Exits 1 when there is any diagnostic (warnings included), 2 on misuse.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lintCypherQuery, testData } from '@neo4j-cypher/language-support';

const VERSION = 'CYPHER 5';
const EXCLUDED = /^apoc\./;

function registry(kind) {
  const all = testData.mockSchema[kind][VERSION] ?? {};
  return Object.fromEntries(Object.entries(all).filter(([name]) => !EXCLUDED.test(name)));
}

const FUNCTIONS = { [VERSION]: registry('functions') };
const PROCEDURES = { [VERSION]: registry('procedures') };

function declaredParams(text) {
  const names = [];
  for (const line of text.split('\n')) {
    const m = line.trim().match(/^\/\/\s*@param\s+([A-Za-z_][A-Za-z0-9_]*)\b/);
    if (m) names.push(m[1]);
  }
  return names;
}

function lint(name, text, params) {
  const schema = {
    functions: FUNCTIONS,
    procedures: PROCEDURES,
    parameters: Object.fromEntries(params.map((p) => [p, null])),
    defaultLanguage: VERSION,
  };
  const { diagnostics } = lintCypherQuery(text, schema, { consoleCommandsEnabled: false });
  return diagnostics.map((d) => ({
    name,
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
    severity: d.severity === 1 ? 'error' : d.severity === 2 ? 'warning' : 'info',
    message: d.message,
  }));
}

function files(path) {
  if (statSync(path).isDirectory()) {
    return readdirSync(path)
      .sort()
      .flatMap((entry) => files(join(path, entry)));
  }
  return path.endsWith('.cypher') ? [path] : [];
}

function main(argv) {
  let statements = [];
  const json = argv.includes('--json');
  if (json) {
    statements = JSON.parse(readFileSync(0, 'utf8'));
    if (!Array.isArray(statements)) {
      console.error('--json expects an array of {"name", "text", "params"}');
      return 2;
    }
  } else {
    if (argv.length === 0) {
      console.error('usage: lint.mjs FILE_OR_DIR... | lint.mjs --json < statements.json');
      return 2;
    }
    for (const path of argv.flatMap(files)) {
      const text = readFileSync(path, 'utf8');
      statements.push({ name: path, text, params: declaredParams(text) });
    }
  }
  const diagnostics = statements.flatMap((s) => lint(s.name, s.text, s.params ?? []));
  if (json) {
    console.log(JSON.stringify({ statements: statements.length, diagnostics }, null, 2));
  } else {
    for (const d of diagnostics) {
      console.log(`${d.name}:${d.line}:${d.column}: ${d.severity}: ${d.message}`);
    }
    console.log(`${statements.length} statement(s), ${diagnostics.length} diagnostic(s)`);
  }
  return diagnostics.length > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
