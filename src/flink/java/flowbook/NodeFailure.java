package flowbook;

/**
 * A failure of one Flowbook node inside the Flink job. Its message starts with the node's id
 * and name in a form Flowbook finds in Flink's exception history, to show it on that node.
 */
public class NodeFailure extends RuntimeException {
    public NodeFailure(int node, String name, String message) {
        super("[flowbook node " + node + " '" + name + "'] " + message);
    }

    public NodeFailure(int node, String name, String message, Throwable cause) {
        super("[flowbook node " + node + " '" + name + "'] " + message, cause);
    }
}
