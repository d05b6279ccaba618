//! Pictures of a graph: LENGTH's text table, and Graphviz DOT.
//!
//! The table lists the nodes the output depends on, found breadth-first from the output. Ids
//! count up from the node found last (id 1) to the output (the largest id), and the rows are
//! printed in that order, so the table reads from the input to the loss. Each row names the node
//! (`FullyConnected (64, 512)`, `input[data] (64, 784)`) and, under `next`, the id of the node
//! that uses it (for a value used twice, the one found first; `-` for the output itself, where
//! LENGTH printed one past the last id).

use std::collections::HashMap;
use std::fmt::Write;

use crate::{Graph, NodeId};

impl Graph<'_> {
    /// LENGTH's `visualize()` table of everything `output` depends on, one row per node:
    ///
    /// ```text
    /// id | layer                   | next
    ///  1 | input[data] (64, 784)   |    2
    ///  2 | FullyConnected (64, 10) |    4
    ///  3 | input[labels] (64,)     |    4
    ///  4 | MeanSquaredError ()     |    -
    /// ```
    ///
    /// Columns are padded so every row has the same width (`layer` left-aligned, the numbers
    /// right-aligned, as LENGTH's format string does).
    pub fn visualize(&self, output: NodeId) -> String {
        let order = self.breadth_first(output);
        let count = order.len();
        let position: HashMap<NodeId, usize> = order
            .iter()
            .enumerate()
            .map(|(j, &(id, _))| (id, j))
            .collect();
        let mut rows = vec![("id".to_string(), "layer".to_string(), "next".to_string())];
        for (j, &(id, user)) in order.iter().enumerate().rev() {
            let next = match user {
                Some(user) => (count - position[&user]).to_string(),
                None => "-".to_string(),
            };
            rows.push(((count - j).to_string(), self.describe(id), next));
        }
        let width = |column: fn(&(String, String, String)) -> &String| {
            rows.iter()
                .map(|row| column(row).chars().count())
                .max()
                .unwrap_or(0)
        };
        let (id_width, layer_width, next_width) =
            (width(|r| &r.0), width(|r| &r.1), width(|r| &r.2));
        let mut table = String::new();
        for (id, layer, next) in &rows {
            let _ = writeln!(
                table,
                "{id:>id_width$} | {layer:<layer_width$} | {next:>next_width$}"
            );
        }
        table.pop(); // the last newline
        table
    }

    /// The graph of everything `output` depends on, in Graphviz DOT: one box per value, an arrow
    /// from each input to the value computed from it. Render with `dot -Tsvg graph.dot`.
    ///
    /// ```
    /// use length_autograd::{functions::Sum, Graph};
    /// use ndarray::array;
    ///
    /// let mut graph = Graph::new();
    /// let x = graph.input(array![1.0f32, 2.0]);
    /// let total = graph.apply(Sum, &[x])?;
    /// let dot = graph.to_dot(total);
    /// assert!(dot.starts_with("digraph"));
    /// assert!(dot.contains("\"Sum ()\""));
    /// # Ok::<(), length_autograd::AutogradError>(())
    /// ```
    pub fn to_dot(&self, output: NodeId) -> String {
        let mut order = self.breadth_first(output);
        order.sort_by_key(|&(id, _)| id);
        let mut dot = String::from("digraph length {\n    rankdir=LR;\n    node [shape=box];\n");
        for &(id, _) in &order {
            let label = self.describe(id).replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(dot, "    n{} [label=\"{label}\"];", id.0);
        }
        for &(id, _) in &order {
            for input in self.creator_inputs(id) {
                let _ = writeln!(dot, "    n{} -> n{};", input.0, id.0);
            }
        }
        dot.push_str("}\n");
        dot
    }

    /// The nodes `output` depends on, breadth-first from `output`, each with the node that first
    /// reached it (`None` for `output`).
    fn breadth_first(&self, output: NodeId) -> Vec<(NodeId, Option<NodeId>)> {
        self.node(output); // panics with a clear message for an id of another graph
        let mut order = vec![(output, None)];
        let mut seen = vec![false; self.nodes.len()];
        seen[output.0] = true;
        let mut next = 0;
        while next < order.len() {
            let (id, _) = order[next];
            next += 1;
            for &input in self.creator_inputs(id) {
                if !seen[input.0] {
                    seen[input.0] = true;
                    order.push((input, Some(id)));
                }
            }
        }
        order
    }

    /// A node as LENGTH prints it: its creator's name (or `input[name]`) and its shape in
    /// Python's tuple notation.
    fn describe(&self, id: NodeId) -> String {
        let node = self.node(id);
        let name = match self.creator_name(id) {
            Some(name) => name.to_string(),
            None => format!("input[{}]", node.name),
        };
        let shape = node.value.shape();
        let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
        match dims.len() {
            1 => format!("{name} ({},)", dims[0]),
            _ => format!("{name} ({})", dims.join(", ")),
        }
    }
}
