//! Read-connection pools: a plain blocking pool for SQLite, an r2d2 manager for PostgreSQL.

use crate::postgres::{PgConfig, PgConn};
use crate::StoreError;
use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex};

pub(crate) struct Pool<T> {
    free: Mutex<Vec<T>>,
    ready: Condvar,
    size: u32,
}

impl<T> Pool<T> {
    pub(crate) fn new(items: Vec<T>) -> Self {
        Pool {
            size: u32::try_from(items.len()).unwrap_or(u32::MAX),
            free: Mutex::new(items),
            ready: Condvar::new(),
        }
    }

    /// Connections lent out and free now (every connection is opened at start).
    pub(crate) fn usage(&self) -> crate::metrics::PoolUse {
        let free = self.free.lock().unwrap_or_else(|e| e.into_inner()).len();
        crate::metrics::PoolUse {
            max: self.size,
            open: self.size,
            idle: u32::try_from(free).unwrap_or(u32::MAX),
        }
    }

    /// Waits for a free connection. Only called from blocking threads.
    pub(crate) fn get(&self) -> Pooled<'_, T> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(item) = free.pop() {
                return Pooled {
                    pool: self,
                    item: Some(item),
                };
            }
            free = self.ready.wait(free).unwrap_or_else(|e| e.into_inner());
        }
    }
}

pub(crate) struct Pooled<'a, T> {
    pool: &'a Pool<T>,
    item: Option<T>,
}

impl<T> Deref for Pooled<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.item.as_ref().expect("pooled item present until drop")
    }
}

impl<T> DerefMut for Pooled<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.item.as_mut().expect("pooled item present until drop")
    }
}

impl<T> Drop for Pooled<'_, T> {
    fn drop(&mut self) {
        if let Some(item) = self.item.take() {
            self.pool
                .free
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(item);
            self.pool.ready.notify_one();
        }
    }
}

pub(crate) struct PgManager {
    pub(crate) config: PgConfig,
}

impl r2d2::ManageConnection for PgManager {
    type Connection = PgConn;
    type Error = StoreError;

    fn connect(&self) -> Result<PgConn, StoreError> {
        self.config.connect()
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), StoreError> {
        conn.batch("")
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.is_closed()
    }
}
