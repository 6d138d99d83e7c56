namespace BuildingBlocks.Sagas;

/// <summary>Which way a step runs.</summary>
public enum SagaDirection
{
    /// <summary>The step's action.</summary>
    Forward = 0,

    /// <summary>The step's compensation (undo).</summary>
    Compensation = 1,
}
