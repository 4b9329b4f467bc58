// What Flowbench's pages import from the Graphviz bundle: the WebAssembly build of Graphviz.
export { Graphviz } from "@hpcc-js/wasm-graphviz";
