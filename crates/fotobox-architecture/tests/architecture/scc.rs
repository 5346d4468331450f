//! Strongly connected components (Tarjan) and a shortest loop inside one, for cycle reports.

use std::collections::VecDeque;

/// Components of the graph `adj` (node → successors) with more than one node, each sorted,
/// in order of their smallest node.
pub fn cycles(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut t = Tarjan {
        adj,
        index: vec![None; adj.len()],
        low: vec![0; adj.len()],
        on_stack: vec![false; adj.len()],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..adj.len() {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    let mut out: Vec<Vec<usize>> = t.out.into_iter().filter(|c| c.len() > 1).collect();
    for c in &mut out {
        c.sort_unstable();
    }
    out.sort();
    out
}

struct Tarjan<'a> {
    adj: &'a [Vec<usize>],
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    next: usize,
    out: Vec<Vec<usize>>,
}

impl Tarjan<'_> {
    // Recursion depth is bounded by the number of files of one crate (a few hundred).
    fn visit(&mut self, v: usize) {
        self.index[v] = Some(self.next);
        self.low[v] = self.next;
        self.next += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        for &w in &self.adj[v] {
            match self.index[w] {
                None => {
                    self.visit(w);
                    self.low[v] = self.low[v].min(self.low[w]);
                }
                Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(self.low[v]) == self.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            self.out.push(comp);
        }
    }
}

/// A shortest closed walk `from → … → from` using only nodes of `comp` (breadth-first search).
pub fn shortest_loop(adj: &[Vec<usize>], comp: &[usize], from: usize) -> Vec<usize> {
    let mut prev: Vec<Option<usize>> = vec![None; adj.len()];
    let mut queue = VecDeque::from([from]);
    while let Some(v) = queue.pop_front() {
        for &w in &adj[v] {
            if w == from {
                let mut walk = vec![from, v];
                let mut cur = v;
                while let Some(p) = prev[cur] {
                    walk.push(p);
                    cur = p;
                }
                // `walk` is from, v, …, from reversed; put it in travel order.
                walk.reverse();
                return walk;
            }
            if prev[w].is_none() && w != from && comp.binary_search(&w).is_ok() {
                prev[w] = Some(v);
                queue.push_back(w);
            }
        }
    }
    vec![from]
}
