// What the studio's pages import from the CodeMirror bundle. Keep this list small and explicit.
export { EditorView, basicSetup, minimalSetup } from "codemirror";
export { EditorState, Compartment } from "@codemirror/state";
export { keymap, lineNumbers } from "@codemirror/view";
export { indentWithTab } from "@codemirror/commands";
export { python } from "@codemirror/lang-python";
export { javascript } from "@codemirror/lang-javascript";
export { json, jsonParseLinter } from "@codemirror/lang-json";
export { linter, lintGutter, setDiagnostics } from "@codemirror/lint";
export { oneDark } from "@codemirror/theme-one-dark";
